import * as amqp from 'amqplib';
import { Pool } from 'pg';
import { Exchanges, Queues, SCHEMA_VERSION, type CallbackMessage } from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { startServiceProcess, waitForOutput, type ServiceProcess } from '@ceb179/harness';
import { declareCallbackPublishing, declareSignJobRouting } from '@ceb179/mq';
import { createSourceTables, createTestDatabase, createTestVhost, TEST_SIGN_JOB_KEY } from '@ceb179/testkit';
import { cpuMs } from './proc-stats';
import type { AssemblerRun } from './report-types';
import type { BenchSettings } from './settings';
import { nowMs, sleep } from './stats';
import { onInterrupt } from './cleanup';
import type { Progress } from './progress';

const SOURCE_SCHEMA = 'bench_src';
const DONE_TIMEOUT_MS = 300_000;

/**
 * The assembler (a real process) working off a backlog of callbacks for random orders, with
 * 10,000 and with 1,000,000 orders in the source tables (seeded with generate_series). The ledger
 * rows exist beforehand, as ingress writes them. Cost per request = the assembler's CPU plus the
 * CPU of the Postgres backends serving its database, divided by the requests.
 */
export async function benchAssembler(settings: BenchSettings['assembler'], progress: Progress): Promise<AssemblerRun[]> {
  const runs: AssemblerRun[] = [];
  for (const orders of settings.orderCounts) {
    const run = await assemblerRun(orders, settings.requests, progress);
    runs.push(run);
    progress.done(
      `${orders} orders: ${run.rate.toFixed(0)} assembled/s, ${run.costMsPerRequest.toFixed(2)} ms CPU per request (assembler ${run.assemblerCpuMsPerRequest.toFixed(2)} + Postgres ${run.postgresCpuMsPerRequest.toFixed(2)})`,
    );
  }
  return runs;
}

async function assemblerRun(orders: number, requests: number, progress: Progress): Promise<AssemblerRun> {
  const db = await createTestDatabase();
  const vhost = await createTestVhost();
  const pool = new Pool({ connectionString: db.url, max: 2 });
  let assembler: ServiceProcess | undefined;
  const release = onInterrupt(async () => {
    await assembler?.kill();
    await pool.end().catch(() => undefined);
    await Promise.allSettled([db.drop(), vhost.delete()]);
  });
  try {
    progress.step(`assembler: seeding ${orders} orders (generate_series)`);
    const seedStarted = nowMs();
    await migrate(pool);
    await createSourceTables(pool, SOURCE_SCHEMA);
    await seed(pool, orders);
    const seedSeconds = (nowMs() - seedStarted) / 1000;

    const sessions = Array.from({ length: requests }, (_, i) => ({
      sessionID: `bench${orders}x${String(i).padStart(8, '0')}`,
      orderNo: `SO-${1 + Math.floor(Math.random() * orders)}`,
    }));
    // The ledger rows ingress would have written (received, published).
    await pool.query(
      `INSERT INTO ceb179.request (session_id, order_no, customs_service_time, received_at, deadline_at, published_at)
       SELECT s, o, '0', now(), now() + interval '120 seconds', now() FROM unnest($1::text[], $2::text[]) AS t(s, o)`,
      [sessions.map((s) => s.sessionID), sessions.map((s) => s.orderNo)],
    );
    await pool.query('VACUUM ANALYZE');

    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      await declareSignJobRouting(channel);
      await declareCallbackPublishing(channel);
      assembler = startServiceProcess(
        'assembler',
        {
          CEB179_AMQP_URL: vhost.url,
          CEB179_DATABASE_URL: db.url,
          CEB179_SOURCE_SCHEMA: SOURCE_SCHEMA,
          CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
          CEB179_METRICS_PORT: '0',
          CEB179_LOG_LEVEL: 'info',
        },
        `bench-assembler-${orders}`,
      );
      await waitForOutput(assembler, 'assembler started');

      // A few requests first, so the figures are not the JIT's and the connection pool's start-up.
      const warm = sessions.slice(0, Math.min(20, Math.floor(requests / 5)));
      const measured = sessions.slice(warm.length);
      const jobs = countSignJobs(channel);
      await publish(channel, warm);
      await jobs.until(warm.length);

      progress.step(`assembler: ${measured.length} callbacks queued for ${orders} orders`);
      const assemblerPid = assembler.child.pid as number;
      const backends = await backendPids(pool, db.name);
      const before = { assembler: cpuMs(assemblerPid) ?? 0, postgres: backendsCpu(backends) };
      const started = nowMs();
      await publish(channel, measured);
      await jobs.until(warm.length + measured.length);
      const seconds = (nowMs() - started) / 1000;
      const assemblerCpu = (cpuMs(assemblerPid) ?? 0) - before.assembler;
      // Backends the pool opened during the run count too (from zero).
      const postgresCpu = backendsCpu(await backendPids(pool, db.name)) - before.postgres;
      const assemblerCpuMsPerRequest = assemblerCpu / measured.length;
      const postgresCpuMsPerRequest = postgresCpu / measured.length;
      await channel.close();
      return {
        orders,
        seedSeconds,
        requests: measured.length,
        rate: measured.length / seconds,
        assemblerCpuMsPerRequest,
        postgresCpuMsPerRequest,
        costMsPerRequest: assemblerCpuMsPerRequest + postgresCpuMsPerRequest,
      };
    } finally {
      await connection.close().catch(() => undefined);
    }
  } finally {
    await assembler?.stop();
    await pool.end();
    await Promise.allSettled([db.drop(), vhost.delete()]);
    release();
  }
}

/** One payment per order, one order per payment, two goods lines per order. */
async function seed(pool: Pool, orders: number): Promise<void> {
  await pool.query(
    `INSERT INTO ${SOURCE_SCHEMA}.payment (pay_transaction_id, ebp_code, pay_code, total_amount, currency, ver_dept, pay_type,
       trading_time, initial_request, initial_response, note)
     SELECT 'PAY-' || i, '3301963K69', '312226T001', 100.50, '142', '3', '1', timestamptz '2023-11-14T16:30:05Z',
            'https://openapi.alipay.com/gateway.do?out_trade_no=' || i, '{"code":"10000","msg":"Success"}', NULL
       FROM generate_series(1, $1::int) AS i`,
    [orders],
  );
  await pool.query(
    `INSERT INTO ${SOURCE_SCHEMA}.payment_order (order_no, pay_transaction_id, recp_account, recp_code, recp_name)
     SELECT 'SO-' || i, 'PAY-' || i, 'OSA571908863132601', NULL, '云集香港有限公司' FROM generate_series(1, $1::int) AS i`,
    [orders],
  );
  await pool.query(
    `INSERT INTO ${SOURCE_SCHEMA}.order_goods (order_no, line_no, gname, item_link)
     SELECT 'SO-' || i, l, 'Aptamil 爱他美 Gold ' || l, 'https://shop.example.cn/item?id=SO-' || i || '&sku=' || l
       FROM generate_series(1, $1::int) AS i, generate_series(1, 2) AS l`,
    [orders],
  );
}

async function publish(channel: amqp.ConfirmChannel, sessions: Array<{ sessionID: string; orderNo: string }>): Promise<void> {
  for (const session of sessions) {
    const message: CallbackMessage = {
      v: SCHEMA_VERSION,
      sessionID: session.sessionID,
      orderNo: session.orderNo,
      customsServiceTime: '0',
      receivedAt: new Date().toISOString(),
      deadline: new Date(Date.now() + 120_000).toISOString(),
    };
    channel.publish(Exchanges.callbacks, '', Buffer.from(JSON.stringify(message)), { persistent: true, contentType: 'application/json' });
  }
  await channel.waitForConfirms();
}

/** Counts the sign jobs the assembler publishes (they land in the catch-all queue: no card queue is bound). */
function countSignJobs(channel: amqp.ConfirmChannel): { until(count: number): Promise<void> } {
  let seen = 0;
  void channel.consume(Queues.signJobsAny, (message) => {
    if (!message) return;
    channel.ack(message);
    seen += 1;
  });
  return {
    async until(count) {
      const deadline = Date.now() + DONE_TIMEOUT_MS;
      while (seen < count) {
        if (Date.now() > deadline)
          throw new Error(`the assembler published ${seen} of ${count} sign jobs within ${DONE_TIMEOUT_MS / 1000} s`);
        await sleep(20);
      }
    },
  };
}

async function backendPids(pool: Pool, database: string): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
    database,
  ]);
  return rows.map((row) => row.pid);
}

function backendsCpu(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
}
