import { randomUUID } from 'node:crypto';
import { buildPaymentDocument, parseCertificate } from '@ceb179/protocol';
import { makeFixture, waitFor, type SourceFixture } from '@ceb179/testkit';
import { ledgerRow, startPipeline, type Pipeline } from './pipeline-harness';

/**
 * The walking pipeline, end to end: 20 customs callbacks through ingress, assembler, signer
 * and reporter (real RabbitMQ, Postgres, Redis; simulated control and customs) become 20
 * uploads whose head and lists are the expected bytes and whose signatures verify.
 */
function fixtures(): SourceFixture[] {
  // 14 single-order payments and 3 payments covering two orders: 20 orders in all.
  const single = Array.from({ length: 14 }, (_, i) =>
    makeFixture(`s${i}`, { amount: ['100.50', '7', '0.00001', '12345678901234.12345'][i % 4] as string }),
  );
  const double = Array.from({ length: 3 }, (_, i) => makeFixture(`d${i}`, { orders: 2 }));
  return [...single, ...double];
}

describe.each(['RSA', 'SM2'] as const)('walking pipeline with an %s card', (algorithm) => {
  const sources = fixtures();
  const orderNos = sources.flatMap((f) => f.payment_order.map((o) => o.order_no));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      algorithm,
      fixtures: sources,
      extraEnv: { CEB179_ASSEMBLER_LOOKUP_RETRIES: '1', CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS: '500' },
    });
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('answers 20 callbacks with 10000 at once and uploads each exactly once, byte-exact and verified', async () => {
    const results = await Promise.all(
      orderNos.map((orderNo, i) =>
        pipeline.customs.fireCallback({
          ingressUrl: pipeline.ingressUrl,
          orderNo,
          sessionID: randomUUID(),
          serviceTimeAs: i % 2 === 0 ? 'string' : 'number',
        }),
      ),
    );
    for (const result of results) {
      expect(result.httpStatus).toBe(200);
      expect(result.contentType).toMatch(/^application\/json/);
      expect(result.body).toEqual({ code: '10000', message: '', serviceTime: expect.any(Number) });
      // Ingress answers within its answer budget (1500 ms) whatever happens behind it; the margin
      // is for a loaded CI machine, the bound still catches an ingress that hangs on a dependency.
      expect(result.latencyMs).toBeLessThan(5_000);
    }

    const uploads = await pipeline.customs.waitForUploads(orderNos.length, 60_000);
    expect(uploads).toHaveLength(orderNos.length);
    const certNo = parseCertificate(pipeline.eport.card.certificateBase64).certNo;
    const bySession = new Map(results.map((r) => [r.sessionID, r.orderNo]));
    for (const upload of uploads) {
      const orderNo = bySession.get(upload.sessionID as string) as string;
      const source = sources.find((f) => f.payment_order.some((o) => o.order_no === orderNo)) as SourceFixture;
      const guid = (JSON.parse(upload.headJson as string) as { guid: string }).guid;
      const expected = buildPaymentDocument({
        source: { payment: source.payment, orders: source.payment_order, goods: source.order_goods },
        guid,
      });
      expect(guid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
      expect(upload.headJson).toBe(expected.headJson);
      expect(upload.listsJson).toBe(expected.listsJson);
      expect(upload.certNo).toBe(certNo);
      expect(upload.verified).toBe(true);
      expect(upload.code).toBe('10000');
    }
    // Exactly once: no sessionID reached customs twice.
    const sessions = pipeline.customs.uploads().map((u) => u.sessionID);
    expect(new Set(sessions).size).toBe(sessions.length);
    expect(pipeline.eport.stats().concurrentViolations).toBe(0);

    const row = await ledgerRow(pipeline.db.url, results[0]?.sessionID as string);
    expect(row).toMatchObject({ status: 'uploaded', customs_code: '10000', cert_no: certNo });
  });

  it('answers 10000 for an order the source does not know, records why, and uploads nothing', async () => {
    const sessionID = randomUUID();
    const result = await pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo: 'NO-SUCH-ORDER', sessionID });
    expect(result.body).toMatchObject({ code: '10000', message: '' });
    const row = await waitFor(
      'data fault recorded',
      async () => {
        const r = await ledgerRow(pipeline.db.url, sessionID);
        return r?.status === 'data_fault' ? r : undefined;
      },
      30_000,
    );
    expect(row.reason).toBe('order NO-SUCH-ORDER is not in payment_order');
    // Counted by sessionID, not by total, so uploads still arriving from another test do not count.
    expect(pipeline.customs.uploads().filter((u) => u.sessionID === sessionID)).toHaveLength(0);
  });

  it('answers a body that is not a callback with code 20000 naming the problem, and keeps serving', async () => {
    const response = await fetch(pipeline.ingressUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'openReq=' + encodeURIComponent('{"orderNo":"X"}'),
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ code: '20000', message: 'openReq.sessionID is missing', serviceTime: expect.any(Number) });
    const count = await pipeline.pool.query("SELECT count(*)::int AS n FROM ceb179.request WHERE order_no = 'X'");
    expect(count.rows[0].n).toBe(0);
    const after = await pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo: 'NO-SUCH-ORDER-2' });
    expect(after.body).toMatchObject({ code: '10000' });
  });
});
