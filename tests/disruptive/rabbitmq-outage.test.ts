import { randomUUID } from 'node:crypto';
import { infraControl, startPipeline, type InfraControl, type Pipeline } from '@ceb179/harness';
import { makeFixture } from '@ceb179/testkit';
import type { CallbackResult } from '@ceb179/customs-sim';

/**
 * Disruptive (runs alone, see scripts/test.sh): RabbitMQ's application is stopped for 30 s
 * while customs calls. Ingress must still answer every call with 10000 at once, having recorded
 * it in Postgres; once the broker is back the outbox relay hands them on and each one is
 * uploaded exactly once, with a verified signature.
 */
const OUTAGE_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RabbitMQ down for 30 s while callbacks arrive', () => {
  // 18 payments of one order and one covering two: 20 orders.
  const fixtures = [...Array.from({ length: 18 }, (_, i) => makeFixture(`mqdown${i}`)), makeFixture('mqdown-two', { orders: 2 })];
  const orderNos = fixtures.flatMap((f) => f.payment_order.map((o) => o.order_no));
  let infra: InfraControl;
  let pipeline: Pipeline;

  beforeAll(async () => {
    infra = await infraControl();
    await infra.ensureUp();
    pipeline = await startPipeline({ algorithm: 'RSA', fixtures });
  }, 60_000);

  afterAll(async () => {
    await infra?.ensureUp();
    await pipeline?.stop();
  }, 150_000);

  it('answers all 20 calls with 10000 within a second, and uploads each exactly once after the broker is back', async () => {
    expect(orderNos).toHaveLength(20);
    await infra.stopRabbit();
    const stoppedAt = Date.now();
    const results: CallbackResult[] = [];
    try {
      // The calls spread over the outage, one every 1.2 s.
      const calls = orderNos.map(async (orderNo, i) => {
        await sleep(i * 1_200);
        results.push(await pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID() }));
      });
      await Promise.all(calls);
      for (const result of results) {
        expect(result.body).toMatchObject({ code: '10000', message: '' });
        expect(result.latencyMs).toBeLessThan(1_000);
      }
      await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
      // Recorded in the ledger, waiting for the broker; nothing could move on.
      const { rows } = await pipeline.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM ceb179.request WHERE status = 'received' AND published_at IS NULL",
      );
      expect(rows[0]?.n).toBe(20);
      expect(pipeline.customs.uploads()).toHaveLength(0);
    } finally {
      await infra.startRabbit();
    }

    await pipeline.customs.waitForUploads(20, 60_000);
    const uploads = pipeline.customs.uploads();
    for (const { sessionID } of results) {
      const mine = uploads.filter((u) => u.sessionID === sessionID);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ code: '10000', verified: true });
    }
    expect(pipeline.current('ingress')?.output()).toContain('outbox relay published recorded callbacks');
  }, 150_000);
});
