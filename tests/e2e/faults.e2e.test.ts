import { randomUUID } from 'node:crypto';
import type { CallbackResult, UploadRecord } from '@ceb179/customs-sim';
import { makeFixture, waitFor, type SourceFixture } from '@ceb179/testkit';
import { startPipeline, type Pipeline, type PipelineService } from './pipeline-harness';

/**
 * "Nothing lost, nothing twice" without touching the shared infrastructure (each pipeline has
 * its own database, vhost and Redis db, so this file runs beside the others): repeated
 * callbacks, customs failing for a while, and every service SIGKILLed mid-batch.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function orderNosOf(fixtures: SourceFixture[]): string[] {
  return fixtures.flatMap((f) => f.payment_order.map((o) => o.order_no));
}

/**
 * Customs stored each sessionID exactly once, with a verified signature; any resend it judged was
 * refused as a duplicate (20006). Injected faults (code "") never reached customs' judgement.
 */
function expectAcceptedOnce(uploads: UploadRecord[], sessionIDs: string[]): void {
  for (const sessionID of sessionIDs) {
    const judged = uploads.filter((u) => u.sessionID === sessionID && u.code !== '');
    const accepted = judged.filter((u) => u.code === '10000');
    expect({ sessionID, accepted: accepted.length }).toEqual({ sessionID, accepted: 1 });
    expect(accepted[0]?.verified).toBe(true);
    expect(judged.filter((u) => u.code !== '10000' && u.code !== '20006').map((u) => u.code)).toEqual([]);
  }
}

async function waitForAccepted(pipeline: Pipeline, sessionIDs: string[], timeoutMs: number): Promise<void> {
  await waitFor(
    `${sessionIDs.length} sessionIDs accepted by customs`,
    async () => {
      const accepted = pipeline.customs.accepted();
      return sessionIDs.every((s) => accepted.has(s)) ? true : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Customs answers before the reporter writes its attempt row and the final status: wait for the ledger too. */
async function waitForLedgerUploaded(pipeline: Pipeline, sessionIDs: string[], timeoutMs: number): Promise<void> {
  await waitFor(
    `${sessionIDs.length} ledger rows uploaded`,
    async () => {
      const { rows } = await pipeline.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM ceb179.request WHERE session_id = ANY($1) AND status = 'uploaded'",
        [sessionIDs],
      );
      return rows[0]?.n === sessionIDs.length ? true : undefined;
    },
    timeoutMs,
    200,
  );
}

describe('repeated callbacks and a failing customs', () => {
  const duplicated = Array.from({ length: 16 }, (_, i) => makeFixture(`dup${i}`, { orders: i % 8 === 7 ? 2 : 1 }));
  const failing = Array.from({ length: 5 }, (_, i) => makeFixture(`c503-${i}`));
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ algorithm: 'RSA', fixtures: [...duplicated, ...failing] });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('every callback sent three times with one sessionID, one after another or all at once, is uploaded exactly once', async () => {
    const orderNos = orderNosOf(duplicated);
    const sequential = orderNos.slice(0, 9);
    const concurrent = orderNos.slice(9);
    const fire = (orderNo: string, sessionID: string) =>
      pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID });
    const results: CallbackResult[] = [];
    const sessions = new Map<string, string>();
    await Promise.all([
      (async () => {
        for (const orderNo of sequential) {
          const sessionID = randomUUID();
          sessions.set(sessionID, orderNo);
          for (let i = 0; i < 3; i++) results.push(await fire(orderNo, sessionID));
        }
      })(),
      ...concurrent.map(async (orderNo) => {
        const sessionID = randomUUID();
        sessions.set(sessionID, orderNo);
        results.push(...(await Promise.all([fire(orderNo, sessionID), fire(orderNo, sessionID), fire(orderNo, sessionID)])));
      }),
    ]);
    expect(results).toHaveLength(3 * orderNos.length);
    // Customs is answered 10000 every time: a repeat is "already recorded", not an error.
    for (const result of results) expect(result.body).toMatchObject({ code: '10000', message: '' });

    const sessionIDs = [...sessions.keys()];
    await waitForAccepted(pipeline, sessionIDs, 30_000);
    await waitForLedgerUploaded(pipeline, sessionIDs, 10_000);
    await sleep(1_000); // room for a second upload, were one on its way
    const uploads = pipeline.customs.uploads();
    expectAcceptedOnce(uploads, sessionIDs);
    // Repeats stop at ingress: not even a resend reached customs.
    expect(uploads.filter((u) => sessions.has(u.sessionID as string))).toHaveLength(sessionIDs.length);
    const { rows } = await pipeline.pool.query<{ n: number; attempts: number }>(
      `SELECT count(*)::int AS n, sum((SELECT count(*) FROM ceb179.upload_attempt a WHERE a.session_id = r.session_id))::int AS attempts
         FROM ceb179.request r WHERE r.session_id = ANY($1) AND r.status = 'uploaded'`,
      [sessionIDs],
    );
    expect(rows[0]).toEqual({ n: sessionIDs.length, attempts: sessionIDs.length });
  });

  it('customs answering 503 to the first 5 uploads: all uploaded exactly once after it recovers, each fault in the ledger', async () => {
    pipeline.customs.failNextUploads(5, 503);
    const before = pipeline.customs.uploads().length;
    const results = await Promise.all(
      orderNosOf(failing).map((orderNo) =>
        pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID() }),
      ),
    );
    for (const result of results) expect(result.body).toMatchObject({ code: '10000' });
    const sessionIDs = results.map((r) => r.sessionID);
    await waitForAccepted(pipeline, sessionIDs, 40_000);
    await waitForLedgerUploaded(pipeline, sessionIDs, 10_000);
    const uploads = pipeline.customs.uploads().slice(before);
    expect(uploads.filter((u) => u.httpStatus === 503)).toHaveLength(5);
    expectAcceptedOnce(uploads, sessionIDs);

    const attempts = await pipeline.pool.query<{ outcome: string; http_status: number | null; customs_code: string | null }>(
      'SELECT outcome, http_status, customs_code FROM ceb179.upload_attempt WHERE session_id = ANY($1) ORDER BY id',
      [sessionIDs],
    );
    const faults = attempts.rows.filter((a) => a.outcome === 'transport_fault');
    expect(faults).toHaveLength(5);
    for (const fault of faults) expect(fault).toMatchObject({ http_status: 503, customs_code: null });
    expect(attempts.rows.filter((a) => a.outcome === 'accepted')).toHaveLength(5);
    const ledger = await pipeline.pool.query<{ status: string; customs_code: string }>(
      'SELECT DISTINCT status, customs_code FROM ceb179.request WHERE session_id = ANY($1)',
      [sessionIDs],
    );
    expect(ledger.rows).toEqual([{ status: 'uploaded', customs_code: '10000' }]);
  });
});

describe('every service SIGKILLed once mid-batch', () => {
  // 30 payments of one order and 5 covering two: 40 orders; a card that takes 40 ms a signature,
  // so work is in flight at every step when the kills come.
  const fixtures = [
    ...Array.from({ length: 30 }, (_, i) => makeFixture(`kill${i}`)),
    ...Array.from({ length: 5 }, (_, i) => makeFixture(`kill-two${i}`, { orders: 2 })),
  ];
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ cards: [{ algorithm: 'RSA', signLatencyMs: 40 }], fixtures });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  it('ingress, assembler, signer and reporter each killed and restarted: every request uploaded exactly once, verified', async () => {
    const orderNos = orderNosOf(fixtures);
    const sessions = new Map<string, string>(orderNos.map((orderNo) => [randomUUID(), orderNo]));
    const refused: string[] = [];
    let sent = 0;
    let answered = 0;
    const sending = (async () => {
      for (const [sessionID, orderNo] of sessions) {
        const call = pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID });
        void call
          .then(
            (result) => (result.body as { code?: string }).code === '10000' || refused.push(sessionID),
            () => refused.push(sessionID),
          )
          .finally(() => (answered += 1));
        sent += 1;
        await sleep(100);
      }
    })();
    const killed: string[] = [];
    const killAndRestart = async (service: PipelineService) => {
      await pipeline.current(service)?.kill();
      killed.push(service);
      await sleep(300);
      await pipeline.restart(service);
    };

    await waitFor('the first sign jobs assembled', async () => (pipeline.eport.stats().signatures >= 3 ? true : undefined), 20_000, 20);
    await killAndRestart('assembler');
    await waitFor('signing under way again', async () => (pipeline.eport.stats().signatures >= 12 ? true : undefined), 20_000, 20);
    await killAndRestart('signer-0');
    await waitFor('uploads under way', async () => (pipeline.customs.accepted().size >= 15 ? true : undefined), 20_000, 20);
    await killAndRestart('reporter');
    await waitFor('the last callbacks being sent', async () => (sent >= 32 ? true : undefined), 20_000, 20);
    await killAndRestart('ingress');
    await sending;
    expect(killed).toEqual(['assembler', 'signer-0', 'reporter', 'ingress']);

    // Customs does not retry on its own; here it calls again, with the same sessionID, whatever got
    // no 10000 while ingress was down (a call recorded just before the kill must not upload twice).
    await waitFor('every call answered', async () => (answered === sessions.size ? true : undefined), 10_000);
    for (const sessionID of refused) {
      const result = await pipeline.customs.fireCallback({
        ingressUrl: pipeline.ingressUrl,
        orderNo: sessions.get(sessionID) as string,
        sessionID,
      });
      expect(result.body).toMatchObject({ code: '10000' });
    }

    const sessionIDs = [...sessions.keys()];
    await waitForAccepted(pipeline, sessionIDs, 30_000);
    // A reporter killed between customs' 10000 and its ledger update leaves its claim behind: the
    // ledger catches up once the claim is stale and the upload is retried (customs answers 20006).
    await waitForLedgerUploaded(pipeline, sessionIDs, 45_000).catch(() => undefined);
    const { rows } = await pipeline.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM ceb179.request WHERE session_id = ANY($1) GROUP BY status ORDER BY status',
      [sessionIDs],
    );
    expect(rows).toEqual([{ status: 'uploaded', n: sessionIDs.length }]);
    expectAcceptedOnce(pipeline.customs.uploads(), sessionIDs);
  }, 90_000);
});
