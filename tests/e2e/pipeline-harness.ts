import path from 'node:path';
import { Client, Pool } from 'pg';
import { startCustomsSim, type CustomsSim } from '@ceb179/customs-sim';
import { migrate } from '@ceb179/db';
import { SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import {
  createSourceTables,
  createTestDatabase,
  createServiceUsers,
  createTestVhost,
  insertSource,
  repoRoot,
  startServiceProcess,
  testRedisUrl,
  waitForOutput,
  type ServiceProcess,
  type SourceFixture,
  type TestDatabase,
  type TestVhost,
} from '@ceb179/testkit';

export const SOURCE_SCHEMA = 'platform_src';
export const CARD_PIN = '88888888';

export interface CardSpec {
  algorithm: 'RSA' | 'SM2';
  /** ebpCodes this card's signer serves; omitted = all. */
  ebpCodes?: string[];
  signLatencyMs?: number;
}

export interface Pipeline {
  db: TestDatabase;
  vhost: TestVhost;
  pool: Pool;
  /** The control of the first card. */
  eport: EportSim;
  eports: EportSim[];
  customs: CustomsSim;
  services: ServiceProcess[];
  ingressUrl: string;
  env: Record<string, string>;
  /** Starts a signer for card `index` (another one for the same card = a second card PC sharing the work). */
  startSigner(index: number, env?: Record<string, string>, waitFor?: string): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

let nextPort = 18_000 + Math.floor(Math.random() * 2_000);

/**
 * The whole of ceb179 as separate processes, built as production runs them, on a throw-away
 * database, vhost and Redis db, with our simulators of the control and of customs at the edges.
 */
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
}

export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const db = await createTestDatabase();
  const vhost = await createTestVhost();
  const pool = new Pool({ connectionString: db.url, max: 4 });
  await migrate(pool);
  await createSourceTables(pool, SOURCE_SCHEMA);
  for (const fixture of options.fixtures) await insertSource(pool, SOURCE_SCHEMA, fixture);

  const specs: CardSpec[] = options.cards ?? [{ algorithm: options.algorithm ?? 'RSA' }];
  const eports: EportSim[] = [];
  for (const spec of specs) {
    const card = SoftCard.create({ algorithm: spec.algorithm, pin: CARD_PIN });
    eports.push(await startEportSim({ card, ...(spec.signLatencyMs ? { signLatencyMs: spec.signLatencyMs } : {}) }));
  }
  const customs = await startCustomsSim({
    certificates: specs.map((spec, i) => ({
      certificateBase64: (eports[i] as EportSim).card.certificateBase64,
      ...(spec.ebpCodes ? { ebpCodes: spec.ebpCodes } : {}),
    })),
  });
  const port = nextPort++;
  const env: Record<string, string> = {
    CEB179_AMQP_URL: vhost.url,
    CEB179_DATABASE_URL: db.url,
    CEB179_REDIS_URL: testRedisUrl(),
    CEB179_INGRESS_PORT: String(port),
    CEB179_SOURCE_SCHEMA: SOURCE_SCHEMA,
    CEB179_CUSTOMS_URL: customs.uploadUrl,
    CEB179_CARD_PIN: CARD_PIN,
    CEB179_LOG_LEVEL: 'info',
    CEB179_SIGNER_HEALTH_PORT: '0',
    ...options.extraEnv,
  };
  const amqpUrls = options.perServiceUsers
    ? await createServiceUsers(vhost, path.join(repoRoot(), 'deploy/rabbitmq/permissions.json'))
    : undefined;
  const amqpUrlOf = (service: 'ingress' | 'assembler' | 'signer' | 'reporter') => amqpUrls?.[service] ?? vhost.url;
  const services: ServiceProcess[] = [];
  let signerCount = 0;
  const startSigner = async (index: number, overrides: Record<string, string> = {}, ready = 'card self-test passed') => {
    const spec = specs[index] as CardSpec;
    const signer = startServiceProcess('signer', {
      ...env,
      CEB179_AMQP_URL: amqpUrlOf('signer'),
      CEB179_EPORT_URL: (eports[index] as EportSim).url,
      CEB179_SIGNER_ID: `signer-${index}-${signerCount++}`,
      ...(spec.ebpCodes ? { CEB179_SIGNER_EBP_CODES: spec.ebpCodes.join(',') } : {}),
      ...overrides,
    }, `signer-${index}`);
    services.push(signer);
    await waitForOutput(signer, ready);
    return signer;
  };
  try {
    for (const name of ['ingress', 'assembler', 'reporter'] as const) {
      const service = startServiceProcess(name, { ...env, CEB179_AMQP_URL: amqpUrlOf(name) });
      services.push(service);
      await waitForOutput(service, `${name} started`);
    }
    if (options.startSigners !== false) for (let i = 0; i < specs.length; i++) await startSigner(i);
  } catch (error) {
    await Promise.all(services.map((s) => s.kill()));
    throw error;
  }
  return {
    db, vhost, pool, eport: eports[0] as EportSim, eports, customs, services, env, startSigner,
    ingressUrl: `http://127.0.0.1:${port}/platDataOpen`,
    async stop() {
      await Promise.all(services.map((s) => s.stop()));
      await Promise.allSettled([...eports.map((e) => e.stop()), customs.stop(), pool.end()]);
      await Promise.allSettled([db.drop(), vhost.delete()]);
    },
  };
}

export async function ledgerRow(dbUrl: string, sessionID: string): Promise<Record<string, unknown> | undefined> {
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID]);
    return rows[0];
  } finally {
    await client.end();
  }
}
