import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { startCustomsSim, type CustomsSim } from '@ceb179/customs-sim';
import { createServiceRoles, migrate, SERVICE_ROLES, serviceRoleName } from '@ceb179/db';
import { SoftCard, startEportSim, type ControlQuirks, type EportSim } from '@ceb179/eport-sim';
import {
  createServiceUsers,
  createSourceTables,
  createTestDatabase,
  createTestVhost,
  insertSource,
  repoRoot,
  startPrivatePostgres,
  TEST_SIGN_JOB_KEY,
  testRedisUrl,
  type SourceFixture,
  type TestDatabase,
  type TestVhost,
} from '@ceb179/testkit';
import { startServiceProcess, waitForOutput, type ServiceProcess } from './processes';

export const SOURCE_SCHEMA = 'platform_src';
export const CARD_PIN = '88888888';

export interface CardSpec {
  algorithm: 'RSA' | 'SM2';
  /** ebpCodes this card's signer serves; omitted = all. */
  ebpCodes?: string[];
  signLatencyMs?: number;
  /** How this card's control differs from the tidy simulator (formats, greeting, pings, encoding). */
  quirks?: Partial<ControlQuirks>;
}

/** A cloud service of the pipeline, or the signer of card `i` ("signer-0", ...). */
export type PipelineService = 'ingress' | 'assembler' | 'reporter' | `signer-${number}`;

export interface Pipeline {
  db: TestDatabase;
  vhost: TestVhost;
  pool: Pool;
  /** The control of the first card. */
  eport: EportSim;
  eports: EportSim[];
  customs: CustomsSim;
  /** Every process started so far, in start order (killed and restarted ones included). */
  services: ServiceProcess[];
  ingressUrl: string;
  /** The running ingress's health listener (/healthz, /readyz), read from its start-up log line. */
  ingressHealthUrl(): string;
  env: Record<string, string>;
  /** Each service's own AMQP URL (its least-privilege user) when started with perServiceUsers. */
  amqpUrls: Record<'ingress' | 'assembler' | 'signer' | 'reporter', string> | undefined;
  /** Each cloud service's own Postgres URL (its role) when started with perServiceDbRoles. */
  databaseUrls: Record<'ingress' | 'assembler' | 'reporter', string> | undefined;
  /** Starts a signer for card `index` (another one for the same card = a second card PC sharing the work). */
  startSigner(index: number, env?: Record<string, string>, waitFor?: string): Promise<ServiceProcess>;
  /**
   * Spawns a service (again) with the pipeline's settings, e.g. after a SIGKILL, without waiting
   * for it to be ready: `readyText` says what it prints once it is.
   */
  spawn(service: PipelineService): ServiceProcess;
  /** spawn() and wait until the service is ready. */
  restart(service: PipelineService): Promise<ServiceProcess>;
  /** The most recently started process of a service. */
  current(service: PipelineService): ServiceProcess | undefined;
  stop(): Promise<void>;
}

/** The line a service prints once it serves (a signer: once its card passed the self-test). */
export function readyText(service: PipelineService): string {
  return service.startsWith('signer-') ? 'card self-test passed' : `${service} started`;
}

let nextPort = 18_000 + Math.floor(Math.random() * 2_000);

export interface PipelineOptions {
  /** One card, or several (each with its own control simulator). */
  algorithm?: 'RSA' | 'SM2';
  cards?: CardSpec[];
  fixtures: SourceFixture[];
  extraEnv?: Record<string, string>;
  /** false: start no signer (the test starts them with startSigner). */
  startSigners?: boolean;
  /** Each service connects as its own least-privilege RabbitMQ user (deploy/rabbitmq/permissions.json). */
  perServiceUsers?: boolean;
  /**
   * The ledger on a private Postgres cluster, where each service connects as its own role with
   * only the grants of @ceb179/db roles.ts (the schema owned by the migrate role).
   */
  perServiceDbRoles?: boolean;
  /** Default: this jest worker's own Redis db (testRedisUrl()). */
  redisUrl?: string;
  /** Create the pipeline's database on this server (e.g. a private Postgres a test stalls); default the shared one. */
  adminDatabaseUrl?: string;
  /** Service log level; default info (readiness is read from the logs, so not above info). */
  logLevel?: 'debug' | 'info';
  /** Prefix of the log files in .test-logs/. */
  logLabel?: string;
  /** Customs refuses non-canonical base64 and bad signatures at once (default true: as strict as customs may be). */
  strictCustoms?: boolean;
}

/**
 * The whole of ceb179 as separate processes, built as production runs them, on a throw-away
 * database, vhost and Redis db, with our simulators of the control and of customs at the edges.
 * Used by the end-to-end tests and by the chaos tool.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const roles = options.perServiceDbRoles ? await ledgerWithServiceRoles() : undefined;
  const db = roles?.db ?? (await createTestDatabase(options.adminDatabaseUrl));
  const vhost = await createTestVhost();
  // Bounded, so a test reading the ledger of a Postgres it stalled gets an error rather than a hang.
  const pool = new Pool({ connectionString: db.url, max: 4, connectionTimeoutMillis: 5_000, query_timeout: 20_000 });
  // Tests restart Postgres under it: an idle client losing its connection must not crash the runner.
  pool.on('error', () => undefined);
  if (!roles) await migrate(pool);
  await createSourceTables(pool, SOURCE_SCHEMA);
  if (roles) {
    await pool.query(
      `GRANT USAGE ON SCHEMA ${SOURCE_SCHEMA} TO ${roles.role('assembler')}; GRANT SELECT ON ALL TABLES IN SCHEMA ${SOURCE_SCHEMA} TO ${roles.role('assembler')}`,
    );
  }
  for (const fixture of options.fixtures) await insertSource(pool, SOURCE_SCHEMA, fixture);

  const specs: CardSpec[] = options.cards ?? [{ algorithm: options.algorithm ?? 'RSA' }];
  const eports: EportSim[] = [];
  for (const spec of specs) {
    const card = SoftCard.create({ algorithm: spec.algorithm, pin: CARD_PIN });
    eports.push(
      await startEportSim({
        card,
        ...(spec.signLatencyMs ? { signLatencyMs: spec.signLatencyMs } : {}),
        ...(spec.quirks ? { quirks: spec.quirks } : {}),
      }),
    );
  }
  // The card PC's own state (PIN refusal memory), as a fresh install has it.
  const signerStateDir = mkdtempSync(path.join(tmpdir(), 'ceb179-signer-state-'));
  const customs = await startCustomsSim({
    strict: options.strictCustoms ?? true,
    certificates: specs.map((spec, i) => ({
      certificateBase64: (eports[i] as EportSim).card.certificateBase64,
      ...(spec.ebpCodes ? { ebpCodes: spec.ebpCodes } : {}),
    })),
  });
  const port = nextPort++;
  const env: Record<string, string> = {
    CEB179_AMQP_URL: vhost.url,
    CEB179_DATABASE_URL: db.url,
    CEB179_REDIS_URL: options.redisUrl ?? testRedisUrl(),
    CEB179_INGRESS_PORT: String(port),
    CEB179_INGRESS_HEALTH_PORT: '0',
    CEB179_SOURCE_SCHEMA: SOURCE_SCHEMA,
    CEB179_CUSTOMS_URL: customs.uploadUrl,
    CEB179_CARD_PIN: CARD_PIN,
    CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
    CEB179_LOG_LEVEL: options.logLevel ?? 'info',
    CEB179_SIGNER_HEALTH_PORT: '0',
    // Each service's ops listener (/metrics, /healthz, /readyz) on any free port: tests run side by side.
    CEB179_METRICS_PORT: '0',
    CEB179_SIGNER_STATE_DIR: signerStateDir,
    ...options.extraEnv,
  };
  const amqpUrls = options.perServiceUsers
    ? await createServiceUsers(vhost, path.join(repoRoot(), 'deploy/rabbitmq/permissions.json'))
    : undefined;
  const amqpUrlOf = (service: 'ingress' | 'assembler' | 'signer' | 'reporter') => amqpUrls?.[service] ?? vhost.url;
  const label = (service: string) => (options.logLabel ? `${options.logLabel}-${service}` : service);
  const services: ServiceProcess[] = [];
  const latest = new Map<PipelineService, ServiceProcess>();
  let signerCount = 0;

  const spawnSigner = (index: number, overrides: Record<string, string> = {}): ServiceProcess => {
    const spec = specs[index];
    if (!spec) throw new Error(`there is no card ${index}`);
    const signer = startServiceProcess(
      'signer',
      {
        ...env,
        CEB179_AMQP_URL: amqpUrlOf('signer'),
        CEB179_EPORT_URL: (eports[index] as EportSim).url,
        CEB179_SIGNER_ID: `signer-${index}-${signerCount++}`,
        ...(spec.ebpCodes ? { CEB179_SIGNER_EBP_CODES: spec.ebpCodes.join(',') } : {}),
        ...overrides,
      },
      label(`signer-${index}`),
    );
    services.push(signer);
    latest.set(`signer-${index}`, signer);
    return signer;
  };
  const spawn = (service: PipelineService): ServiceProcess => {
    if (service.startsWith('signer-')) return spawnSigner(Number(service.slice('signer-'.length)));
    const name = service as 'ingress' | 'assembler' | 'reporter';
    const started = startServiceProcess(
      name,
      { ...env, CEB179_AMQP_URL: amqpUrlOf(name), ...(roles ? { CEB179_DATABASE_URL: roles.urls[name] } : {}) },
      label(name),
    );
    services.push(started);
    latest.set(name, started);
    return started;
  };
  const restart = async (service: PipelineService): Promise<ServiceProcess> => {
    const started = spawn(service);
    await waitForOutput(started, readyText(service));
    return started;
  };
  const startSigner = async (index: number, overrides: Record<string, string> = {}, ready = readyText('signer-0')) => {
    const signer = spawnSigner(index, overrides);
    await waitForOutput(signer, ready);
    return signer;
  };
  try {
    for (const name of ['ingress', 'assembler', 'reporter'] as const) await restart(name);
    if (options.startSigners !== false) for (let i = 0; i < specs.length; i++) await startSigner(i);
  } catch (error) {
    await Promise.all(services.map((s) => s.kill()));
    throw error;
  }
  return {
    db,
    vhost,
    pool,
    eport: eports[0] as EportSim,
    eports,
    customs,
    services,
    env,
    amqpUrls,
    databaseUrls: roles?.urls,
    startSigner,
    spawn,
    restart,
    current: (service) => latest.get(service),
    ingressUrl: `http://127.0.0.1:${port}/platDataOpen`,
    ingressHealthUrl() {
      const output = latest.get('ingress')?.output() ?? '';
      const line = output.split('\n').find((l) => l.includes('ingress health endpoints'));
      const healthPort = line ? (JSON.parse(line) as { port?: number }).port : undefined;
      if (!healthPort) throw new Error('ingress printed no health listener');
      return `http://127.0.0.1:${healthPort}`;
    },
    async stop() {
      await Promise.all(services.map((s) => s.stop()));
      await Promise.allSettled([...eports.map((e) => e.stop()), customs.stop(), pool.end()]);
      await Promise.allSettled([db.drop(), vhost.delete()]);
      rmSync(signerStateDir, { recursive: true, force: true });
    },
  };
}

/**
 * A private cluster with the roles scripts/postgres-roles.sh makes: the migrate role creates and
 * owns the ledger (and grants), each service gets a login role of its own.
 */
async function ledgerWithServiceRoles(): Promise<{
  db: TestDatabase;
  urls: Record<'ingress' | 'assembler' | 'reporter', string>;
  role(service: 'assembler'): string;
}> {
  const cluster = await startPrivatePostgres();
  try {
    const admin = new Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE ledger');
    await admin.end();
    const adminUrl = cluster.url.replace(/\/postgres$/, '/ledger');
    const ledgerAdmin = new Client({ connectionString: adminUrl });
    await ledgerAdmin.connect();
    const passwords = Object.fromEntries(
      [...SERVICE_ROLES, 'migrate'].map((r) => [r, `pw-${r}-${Math.random().toString(36).slice(2)}`]),
    ) as Record<(typeof SERVICE_ROLES)[number] | 'migrate', string>;
    await createServiceRoles(ledgerAdmin, 'ledger', 'ceb179', passwords);
    await ledgerAdmin.end();
    const urlOf = (role: string) => `postgres://ceb179_${role}:${passwords[role as 'migrate']}@127.0.0.1:${cluster.port}/ledger`;
    const migratePool = new Pool({ connectionString: urlOf('migrate'), max: 1 });
    try {
      // Twice, as every deployment does: migrating and granting again changes nothing.
      await migrate(migratePool, undefined, { rolePrefix: 'ceb179' });
      await migrate(migratePool, undefined, { rolePrefix: 'ceb179' });
    } finally {
      await migratePool.end();
    }
    return {
      db: { url: adminUrl, name: 'ledger', drop: () => cluster.destroy() },
      urls: { ingress: urlOf('ingress'), assembler: urlOf('assembler'), reporter: urlOf('reporter') },
      role: (service) => serviceRoleName('ceb179', service),
    };
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}

export async function ledgerRow(dbUrl: string, sessionID: string): Promise<Record<string, unknown> | undefined> {
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, unknown>>('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID]);
    return rows[0];
  } finally {
    await client.end();
  }
}
