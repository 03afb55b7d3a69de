import { randomUUID } from 'node:crypto';
import { makeFixture, waitFor } from '@ceb179/testkit';
import { ledgerRow, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Each service as its own RabbitMQ user with only the permissions of
 * deploy/rabbitmq/permissions.json: the whole pipeline still works, retries and dead letters
 * included, so the documented grants are neither too narrow nor stale.
 */
describe('least-privilege RabbitMQ users, one per service', () => {
  const fixtures = Array.from({ length: 4 }, (_, i) => makeFixture(`perm${i}`, { orders: i === 3 ? 2 : 1 }));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      cards: [{ algorithm: 'RSA', ebpCodes: ['3301963K69'] }],
      fixtures,
      perServiceUsers: true,
      extraEnv: { CEB179_ASSEMBLER_LOOKUP_RETRIES: '1', CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS: '500' },
    });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('uploads every request, with a customs retry and an unknown order on the way', async () => {
    pipeline.customs.failNextUploads(1, 503); // the reporter's delayed retry goes through its delay queue
    const orderNos = [...fixtures.flatMap((f) => f.payment_order.map((o) => o.order_no)), 'NOT-IN-SOURCE'];
    const results = await Promise.all(orderNos.map((orderNo) => pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID() })));
    for (const r of results) expect(r.body).toMatchObject({ code: '10000' });
    const uploads = await pipeline.customs.waitForUploads(5, 30_000);
    expect(uploads.every((u) => u.verified)).toBe(true);
    // The unknown order went through the assembler's delay queue before it became a data fault.
    const unknown = results[results.length - 1]?.sessionID as string;
    await waitFor('the unknown order recorded as a data fault', async () =>
      (await ledgerRow(pipeline.db.url, unknown))?.status === 'data_fault' ? true : undefined, 15_000);
    expect(pipeline.customs.uploads().filter((u) => u.code === '').length).toBe(1); // the one injected 503
    for (const service of pipeline.services) expect(service.output()).not.toMatch(/ACCESS_REFUSED|access to .* refused/i);
  });
});
