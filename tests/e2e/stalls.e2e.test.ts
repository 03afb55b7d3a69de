import { Queues } from '@ceb179/contracts';
import { randomUUID } from 'node:crypto';
import type { CallbackResult } from '@ceb179/customs-sim';
import {
  makeFixture,
  queueDepth,
  startPrivatePostgres,
  startPrivateRedis,
  waitFor,
  type PrivatePostgres,
  type PrivateServer,
} from '@ceb179/testkit';
import { startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Never hang, never lose. The pipeline runs on a Redis and a Postgres of this test's own, which it
 * stalls with SIGSTOP (a hung server or a network black hole: sockets stay open, nothing answers)
 * and stops outright — the machine's shared services are never touched, so this runs in the
 * parallel phase. Customs calls once and does not retry: every callback must be answered 10000
 * within 2 s whatever the dependencies do, and each must become exactly one upload.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STALL_MS = 15_000;
const ANSWER_LIMIT_MS = 2_000;

interface Fired {
  sessionID: string;
  orderNo: string;
  result?: CallbackResult;
  error?: string;
  elapsedMs: number;
}

/** Fires one callback every `everyMs` for `forMs`, taking orderNos from `orders`; resolves when all are answered. */
async function fireDuring(pipeline: Pipeline, orders: string[], forMs: number, everyMs: number): Promise<Fired[]> {
  const fired: Array<Promise<Fired>> = [];
  const started = Date.now();
  while (Date.now() - started < forMs && orders.length > 0) {
    const orderNo = orders.shift() as string;
    const sessionID = randomUUID().replace(/-/g, '');
    const sentAt = Date.now();
    fired.push(
      pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID, timeoutMs: 10_000 }).then(
        (result) => ({ sessionID, orderNo, result, elapsedMs: Date.now() - sentAt }),
        (error: unknown) => ({ sessionID, orderNo, error: String(error), elapsedMs: Date.now() - sentAt }),
      ),
    );
    await sleep(everyMs);
  }
  return Promise.all(fired);
}

function expectAnsweredInTime(fired: Fired[]): void {
  for (const call of fired) {
    expect({ sessionID: call.sessionID, code: (call.result?.body as { code?: string } | undefined)?.code, error: call.error }).toEqual({
      sessionID: call.sessionID,
      code: '10000',
      error: undefined,
    });
    expect({ sessionID: call.sessionID, fast: call.elapsedMs < ANSWER_LIMIT_MS, elapsedMs: call.elapsedMs }).toEqual({
      sessionID: call.sessionID,
      fast: true,
      elapsedMs: call.elapsedMs,
    });
  }
}

/** Each sessionID stored by customs exactly once; any resend it judged was refused as a duplicate. */
async function expectUploadedOnce(pipeline: Pipeline, sessionIDs: string[], timeoutMs: number): Promise<void> {
  await waitFor(
    `${sessionIDs.length} uploads`,
    async () => {
      const accepted = pipeline.customs.accepted();
      return sessionIDs.every((s) => accepted.has(s)) ? true : undefined;
    },
    timeoutMs,
    250,
  );
  await waitFor(
    'the ledger to show them uploaded',
    async () => {
      const { rows } = await pipeline.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM ceb179.request WHERE session_id = ANY($1) AND status = 'uploaded'",
        [sessionIDs],
      );
      return rows[0]?.n === sessionIDs.length ? true : undefined;
    },
    30_000,
    250,
  );
  await sleep(3_000); // a late second upload would show now
  const uploads = pipeline.customs.uploads();
  for (const sessionID of sessionIDs) {
    const judged = uploads.filter((u) => u.sessionID === sessionID && u.code !== '');
    expect({ sessionID, stored: judged.filter((u) => u.code === '10000').length }).toEqual({ sessionID, stored: 1 });
    expect(judged.filter((u) => u.code !== '10000' && u.code !== '20006')).toEqual([]);
    expect(new Set(judged.map((u) => u.rawBody)).size).toBe(1); // never a second, different document
  }
}

describe('stalled Redis and Postgres (private instances)', () => {
  const fixtures = Array.from({ length: 60 }, (_, i) => makeFixture(`stall${i}`));
  const orders = fixtures.map((f) => f.payment_order[0]!.order_no);
  let redis: PrivateServer | undefined;
  let postgres: PrivatePostgres | undefined;
  let pipeline: Pipeline | undefined;

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
    pipeline = await startPipeline({ algorithm: 'RSA', fixtures, redisUrl: redis.url, adminDatabaseUrl: postgres.url, logLabel: 'stalls' });
  }, 120_000);

  afterAll(async () => {
    redis?.resume();
    postgres?.resume();
    await pipeline?.stop();
    await Promise.allSettled([redis?.destroy(), postgres?.destroy()]);
  }, 60_000);

  it('Redis, then Postgres, stalled 15 s each while callbacks arrive: each answered 10000 within 2 s, each uploaded exactly once', async () => {
    const running = pipeline as Pipeline;
    const before = await fireDuring(running, orders, 2_000, 500);

    redis!.stall();
    const duringRedis = await fireDuring(running, orders, STALL_MS, 1_000);
    redis!.resume();

    postgres!.stall();
    const duringPostgres = await fireDuring(running, orders, STALL_MS, 1_000);
    postgres!.resume();
    const after = await fireDuring(running, orders, 2_000, 500);

    const all = [...before, ...duringRedis, ...duringPostgres, ...after];
    expectAnsweredInTime(all);
    expect(duringRedis.length).toBeGreaterThanOrEqual(14);
    expect(duringPostgres.length).toBeGreaterThanOrEqual(14);
    await expectUploadedOnce(
      running,
      all.map((f) => f.sessionID),
      120_000,
    );
  }, 240_000);

  it('readiness stays up while Postgres is stalled: ingress can still record through RabbitMQ', async () => {
    const running = pipeline as Pipeline;
    const readyz = `${running.ingressHealthUrl()}/readyz`;
    postgres!.stall();
    try {
      const started = Date.now();
      const response = await fetch(readyz, { signal: AbortSignal.timeout(5_000) });
      expect({ status: response.status, fast: Date.now() - started < ANSWER_LIMIT_MS }).toEqual({ status: 200, fast: true });
      expect(await response.json()).toMatchObject({ status: 'ready', checks: { database: false, broker: true } });
    } finally {
      postgres!.resume();
    }
  }, 30_000);
});

describe('Postgres down for long (private instance, limits lowered)', () => {
  const fixtures = Array.from({ length: 12 }, (_, i) => makeFixture(`outage${i}`));
  const orders = fixtures.map((f) => f.payment_order[0]!.order_no);
  let postgres: PrivatePostgres | undefined;
  let pipeline: Pipeline | undefined;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    pipeline = await startPipeline({
      // A slow card: signatures of the callbacks sent before the outage reach the reporter during it.
      cards: [{ algorithm: 'RSA', signLatencyMs: 1_500 }],
      fixtures,
      adminDatabaseUrl: postgres.url,
      logLabel: 'outage',
      // Two handler failures in a row would make a message poison: an outage must never count as one.
      extraEnv: { CEB179_MAX_HANDLER_FAILURES: '2', CEB179_OUTAGE_RETRY_MAX_DELAY_MS: '3000' },
    });
  }, 120_000);

  afterAll(async () => {
    await postgres?.start().catch(() => undefined); // so the test database can be dropped
    await pipeline?.stop();
    await postgres?.destroy();
  }, 60_000);

  it('nothing dead-lettered, everything uploaded once Postgres is back', async () => {
    const running = pipeline as Pipeline;
    // Some are being signed when Postgres goes (the reporter meets the outage), the rest arrive while it is down (the assembler does).
    const before = await fireDuring(running, orders, 1_500, 250);
    await waitFor(
      'the first callbacks assembled',
      async () => {
        const { rows } = await running.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM ceb179.request WHERE status <> 'received'",
        );
        return rows[0]?.n === before.length ? true : undefined;
      },
      10_000,
      100,
    );
    await postgres!.stop();
    const during = await fireDuring(running, orders, 10_000, 1_000);
    await sleep(50_000); // a minute without Postgres: 2 failures would have dead-lettered everything in hand
    await postgres!.start();

    const all = [...before, ...during];
    expectAnsweredInTime(all);
    await expectUploadedOnce(
      running,
      all.map((f) => f.sessionID),
      120_000,
    );
    for (const service of ['assembler', 'reporter'] as const) {
      expect({ service, outage: running.current(service)!.output().includes('a dependency is unavailable') }).toEqual({
        service,
        outage: true,
      });
    }
    await waitFor('the dead-letter count', async () => queueDepth(running.vhost.name, Queues.deadLetters), 10_000);
    expect(await queueDepth(running.vhost.name, Queues.deadLetters)).toBe(0);
  }, 300_000);
});
