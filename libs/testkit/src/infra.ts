import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Throw-away resources on the real RabbitMQ, Postgres and Redis that scripts/infra-up.sh
 * started: every test file gets its own database, vhost and Redis db, so files run in
 * parallel without seeing each other's data.
 */
const env = process.env;
export const testInfra = {
  adminDatabaseUrl: env.CEB179_TEST_DATABASE_URL ?? 'postgres://ceb179:ceb179@127.0.0.1:5432/ceb179',
  amqpBaseUrl: env.CEB179_TEST_AMQP_URL ?? 'amqp://ceb179:ceb179@127.0.0.1:5672',
  rabbitApiUrl: env.CEB179_TEST_RABBIT_API ?? 'http://127.0.0.1:15672/api',
  rabbitUser: env.CEB179_TEST_RABBIT_USER ?? 'ceb179',
  rabbitPassword: env.CEB179_TEST_RABBIT_PASSWORD ?? 'ceb179',
  redisBaseUrl: env.CEB179_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database on the shared Postgres, or on another server given by its admin URL (a private instance). */
export async function createTestDatabase(adminDatabaseUrl = testInfra.adminDatabaseUrl): Promise<TestDatabase> {
  const name = uniqueName('ceb179_t');
  const admin = new Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new Client({ connectionString: adminDatabaseUrl });
      await client.connect();
      try {
        // pg's Pool.end() resolves before its sockets have closed. FORCE on a backend whose client is
        // still closing makes that client emit 'error', which a pool without an error listener turns
        // into an uncaught exception that fails the test file. Let closing connections go first (bounded).
        for (let waited = 0; waited < 2_000; waited += 25) {
          const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if ((rows[0]?.n ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface TestVhost {
  url: string;
  name: string;
  /** A property, not a method: helpers that add users to the vhost wrap it to delete those users too. */
  delete: () => Promise<void>;
}

async function rabbitApi(method: string, path: string, body?: unknown): Promise<void> {
  const auth = Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64');
  const response = await fetch(`${testInfra.rabbitApiUrl}${path}`, {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (!response.ok && response.status !== 404) {
    throw new Error(`RabbitMQ management API ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  }
}

export async function createTestVhost(): Promise<TestVhost> {
  const name = uniqueName('ceb179_t');
  await rabbitApi('PUT', `/vhosts/${name}`, {});
  await rabbitApi('PUT', `/permissions/${name}/${testInfra.rabbitUser}`, { configure: '.*', write: '.*', read: '.*' });
  return {
    url: `${testInfra.amqpBaseUrl}/${name}`,
    name,
    delete: () => rabbitApi('DELETE', `/vhosts/${name}`),
  };
}

/** Message counts of a vhost's queues, from the management API (eventually consistent, ~5 s). */
export async function queueDepth(vhost: string, queue: string): Promise<number | undefined> {
  const auth = Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64');
  const response = await fetch(`${testInfra.rabbitApiUrl}/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`, {
    headers: { authorization: `Basic ${auth}` },
  });
  if (!response.ok) return undefined;
  const body = (await response.json()) as { messages?: number };
  return body.messages;
}

/**
 * A Redis db index of its own for this jest worker (1..15; db 0 is the demo's).
 * CEB179_TEST_REDIS_DB_OFFSET shifts the range, so two checkouts can run their suites at once.
 */
export function testRedisUrl(): string {
  const worker = Number(env.JEST_WORKER_ID ?? '1');
  const offset = Number(env.CEB179_TEST_REDIS_DB_OFFSET ?? '0');
  return `${testInfra.redisBaseUrl}/${1 + ((offset + worker - 1) % 15)}`;
}

export type ServiceName = 'ingress' | 'assembler' | 'signer' | 'reporter';

/**
 * One RabbitMQ user per service in the vhost, with exactly the permissions of
 * deploy/rabbitmq/permissions.json; returns each service's AMQP URL.
 */
export async function createServiceUsers(vhost: TestVhost, permissionsFile: string): Promise<Record<ServiceName, string>> {
  const { readFileSync } = await import('node:fs');
  const permissions = JSON.parse(readFileSync(permissionsFile, 'utf8')) as {
    services: Record<ServiceName, { configure: string; write: string; read: string }>;
  };
  const urls = {} as Record<ServiceName, string>;
  for (const [service, grant] of Object.entries(permissions.services) as Array<
    [ServiceName, { configure: string; write: string; read: string }]
  >) {
    const user = `${vhost.name}_${service}`;
    const password = randomBytes(9).toString('hex');
    await rabbitApi('PUT', `/users/${user}`, { password, tags: '' });
    await rabbitApi('PUT', `/permissions/${vhost.name}/${user}`, grant);
    const base = new URL(testInfra.amqpBaseUrl);
    urls[service] = `amqp://${user}:${password}@${base.host}/${vhost.name}`;
  }
  const previousDelete = vhost.delete;
  vhost.delete = async () => {
    await previousDelete();
    for (const service of Object.keys(permissions.services)) await rabbitApi('DELETE', `/users/${vhost.name}_${service}`);
  };
  return urls;
}

/** A RabbitMQ user of the vhost with the given grants (deleted with the vhost); returns its AMQP URL. */
export async function createVhostUser(
  vhost: TestVhost,
  name: string,
  grant: { configure: string; write: string; read: string },
): Promise<string> {
  const user = `${vhost.name}_${name}`;
  const password = randomBytes(9).toString('hex');
  await rabbitApi('PUT', `/users/${user}`, { password, tags: '' });
  await rabbitApi('PUT', `/permissions/${vhost.name}/${user}`, grant);
  const previousDelete = vhost.delete;
  vhost.delete = async () => {
    await previousDelete();
    await rabbitApi('DELETE', `/users/${user}`);
  };
  const base = new URL(testInfra.amqpBaseUrl);
  return `amqp://${user}:${password}@${base.host}/${vhost.name}`;
}

/** Every queue of a vhost with its message count (ready + unacked), from the management API (refreshed every ~5 s). */
export async function vhostQueues(vhost: string): Promise<Array<{ name: string; messages: number }>> {
  const auth = Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64');
  const response = await fetch(`${testInfra.rabbitApiUrl}/queues/${encodeURIComponent(vhost)}?columns=name,messages`, {
    headers: { authorization: `Basic ${auth}` },
  });
  if (!response.ok) throw new Error(`RabbitMQ management API: HTTP ${response.status} listing the queues of ${vhost}`);
  const queues = (await response.json()) as Array<{ name: string; messages?: number }>;
  return queues.map((q) => ({ name: q.name, messages: q.messages ?? 0 }));
}

/**
 * The sign-job HMAC key of this test run (CEB179_SIGN_JOB_KEY): made up at random per process,
 * like the demo's, so no key is ever committed.
 */
export const TEST_SIGN_JOB_KEY = process.env.CEB179_TEST_SIGN_JOB_KEY ?? randomBytes(32).toString('base64');
