import { Queues } from '@ceb179/contracts';
import { randomUUID } from 'node:crypto';
import { infraControl, startPipeline, type InfraControl, type Pipeline } from '@ceb179/harness';
import { makeFixture, vhostQueues, waitFor } from '@ceb179/testkit';
import type { CallbackResult } from '@ceb179/customs-sim';

/**
 * Disruptive (runs alone, see scripts/test.sh): Postgres restarts, down for 8 s, while customs
 * calls. Calls that find the ledger down are recorded in RabbitMQ instead (the assembler creates
 * their ledger rows later); the assembler and reporter ride out the outage. Every call answered
 * 10000 is uploaded exactly once, with a verified signature.
 */
const OUTAGE_MS = 8_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Postgres restarted (down for 8 s) while callbacks arrive', () => {
  const fixtures = [
    ...Array.from({ length: 46 }, (_, i) => makeFixture(`pgre${i}`)),
    ...Array.from({ length: 2 }, (_, i) => makeFixture(`pgre-two${i}`, { orders: 2 })),
  ];
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

  it('uploads every call answered 10000 exactly once', async () => {
    const results: CallbackResult[] = [];
    // 50 calls, one every 200 ms; Postgres goes down after the first second, for 8 s. Longer than
    // the quorum delivery limit's worth of immediate redeliveries: that used to dead-letter them.
    const calls = orderNos.map(async (orderNo, i) => {
      await sleep(i * 200);
      results.push(await pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID() }));
    });
    await sleep(1_000);
    await infra.stopPostgres();
    try {
      await sleep(OUTAGE_MS);
    } finally {
      await infra.startPostgres();
    }
    await Promise.all(calls);

    // With the broker up, no call has to be refused.
    for (const result of results) expect(result.body).toMatchObject({ code: '10000' });
    const accepted = results.map((r) => r.sessionID);
    expect(pipeline.current('ingress')?.output()).toContain('ledger unavailable; recording the callback in RabbitMQ instead');

    await waitFor(
      `all ${accepted.length} accepted calls uploaded`,
      async () => (accepted.every((s) => pipeline.customs.accepted().has(s)) ? true : undefined),
      60_000,
      250,
    );
    const uploads = pipeline.customs.uploads();
    for (const sessionID of accepted) {
      const mine = uploads.filter((u) => u.sessionID === sessionID);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ code: '10000', verified: true });
    }
    const dead = await vhostQueues(pipeline.vhost.name);
    expect(dead.find((q) => q.name === Queues.deadLetters)?.messages ?? 0).toBe(0);
    const { rows } = await pipeline.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM ceb179.request WHERE session_id = ANY($1) GROUP BY status',
      [accepted],
    );
    expect(rows).toEqual([{ status: 'uploaded', n: accepted.length }]);
  }, 120_000);
});
