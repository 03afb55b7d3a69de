import { Pool } from 'pg';

export interface PoolOptions {
  applicationName: string;
  max?: number;
}

/** A pg pool with bounded waits, so a stuck database surfaces as an error rather than a hang. */
export function createPool(url: string, options: PoolOptions): Pool {
  const pool = new Pool({
    connectionString: url,
    application_name: options.applicationName,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 15_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor a checked-out one (pool.connect()) whose connection drops between two queries, e.g. Postgres
  // restarting while ingress's outbox relay waits on RabbitMQ inside its transaction: pg emits
  // 'error' on that client with no pool listener attached. Its next query fails instead, and the
  // pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
