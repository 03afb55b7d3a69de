import { Pool } from 'pg';

export interface PoolOptions {
  applicationName: string;
  max?: number;
  /** Longest wait for a connection (pool slot, TCP connect and start-up); default 5 s. */
  connectionTimeoutMs?: number;
  /**
   * Client-side bound on one query, default 20 s. statement_timeout (15 s) only works while the
   * server runs; a stalled server (SIGSTOP, a network black hole) never answers, and without this
   * the query and everything queued behind it would wait for ever.
   */
  queryTimeoutMs?: number;
  /**
   * Server-side statement time limit (default 15 s). 0 = none: migrations, which may build an
   * index on a three-year ledger, must not be cut off by the services' limit.
   */
  statementTimeoutMs?: number;
}

/** Server-side bound on one statement; below the client-side one, so a slow server says why. */
const STATEMENT_TIMEOUT_MS = 15_000;

/** A pg pool with bounded waits, so a stuck database surfaces as an error rather than a hang. */
export function createPool(url: string, options: PoolOptions): Pool {
  const pool = new Pool({
    connectionString: url,
    application_name: options.applicationName,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // Migrations (statementTimeoutMs 0) run without either limit: an index build on a big ledger takes its time.
    ...(options.statementTimeoutMs === 0
      ? {}
      : {
          statement_timeout: options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS,
          query_timeout: Math.max(options.queryTimeoutMs ?? 20_000, 1),
        }),
    // A transaction left open by a stalled client must not hold row locks for ever.
    idle_in_transaction_session_timeout: 60_000,
    // TCP keep-alive finds a peer that vanished (host down, connection silently dropped by a NAT).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
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
