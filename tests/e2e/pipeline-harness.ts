import { Client, Pool } from 'pg';
import { startCustomsSim, type CustomsSim } from '@ceb179/customs-sim';
import { migrate } from '@ceb179/db';
import { SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import {
  createSourceTables,
  createTestDatabase,
  createTestVhost,
  insertSource,
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

export interface Pipeline {
  db: TestDatabase;
  vhost: TestVhost;
  pool: Pool;
  eport: EportSim;
  customs: CustomsSim;
  services: ServiceProcess[];
  ingressUrl: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

let nextPort = 18_000 + Math.floor(Math.random() * 2_000);

/**
 * The whole of ceb179 as separate processes, built as production runs them, on a throw-away
 * database, vhost and Redis db, with our simulators of the control and of customs at the edges.
 */
export async function startPipeline(options: { algorithm: 'RSA' | 'SM2'; fixtures: SourceFixture[]; extraEnv?: Record<string, string> }): Promise<Pipeline> {
  const db = await createTestDatabase();
  const vhost = await createTestVhost();
  const pool = new Pool({ connectionString: db.url, max: 4 });
  await migrate(pool);
  await createSourceTables(pool, SOURCE_SCHEMA);
  for (const fixture of options.fixtures) await insertSource(pool, SOURCE_SCHEMA, fixture);

  const card = SoftCard.create({ algorithm: options.algorithm, pin: CARD_PIN });
  const eport = await startEportSim({ card });
  const customs = await startCustomsSim({ certificates: [{ certificateBase64: card.certificateBase64 }] });
  const port = nextPort++;
  const env: Record<string, string> = {
    CEB179_AMQP_URL: vhost.url,
    CEB179_DATABASE_URL: db.url,
    CEB179_REDIS_URL: testRedisUrl(),
    CEB179_INGRESS_PORT: String(port),
    CEB179_SOURCE_SCHEMA: SOURCE_SCHEMA,
    CEB179_EPORT_URL: eport.url,
    CEB179_CUSTOMS_URL: customs.uploadUrl,
    CEB179_CARD_PIN: CARD_PIN,
    CEB179_LOG_LEVEL: 'info',
    CEB179_SIGNER_HEALTH_PORT: '0',
    ...options.extraEnv,
  };
  const services: ServiceProcess[] = [];
  try {
    for (const name of ['ingress', 'assembler', 'reporter', 'signer']) {
      const service = startServiceProcess(name, env);
      services.push(service);
      await waitForOutput(service, name === 'signer' ? 'card self-test passed' : `${name} started`);
    }
  } catch (error) {
    await Promise.all(services.map((s) => s.kill()));
    throw error;
  }
  return {
    db, vhost, pool, eport, customs, services, env,
    ingressUrl: `http://127.0.0.1:${port}/platDataOpen`,
    async stop() {
      await Promise.all(services.map((s) => s.stop()));
      await Promise.allSettled([eport.stop(), customs.stop(), pool.end()]);
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
