import { randomUUID } from 'node:crypto';
import { SOURCE_SCHEMA, startPipeline, type Pipeline } from '@ceb179/harness';
import { insertSource, makeFixture, waitFor } from '@ceb179/testkit';

export const SERVED_EBP_CODE = '3301963K69';
const UNSERVED_EBP_CODE = 'NOCARD0001';

export interface OperatorScenario {
  pipeline: Pipeline;
  /** One request in each state an operator meets. */
  sessions: { uploaded: string; rejected: string; waiting: string; unknown: string };
  orders: { uploaded: string; rejected: string; waiting: string; unknown: string };
  status(sessionID: string): Promise<string | undefined>;
  until(sessionID: string, status: string): Promise<unknown>;
  /**
   * A further request customs rejected (503, no retry allowed), for a test that changes it (a re-send):
   * the four above stay as they are, so the tests that look at them pass in any order.
   */
  rejectedRequest(key: string): Promise<{ sessionID: string; orderNo: string }>;
}

/**
 * A real pipeline with four requests for the operator tools to look at: one uploaded, one
 * upload_rejected (customs answered 503 once and no transport retry is allowed), one waiting in
 * `assembled` (its ebpCode has no card), and a data_fault (customs asked about an unknown order).
 */
export async function startOperatorScenario(logLabel: string): Promise<OperatorScenario> {
  const uploaded = makeFixture(`${logLabel}-ok`);
  const rejected = makeFixture(`${logLabel}-rejected`);
  const waiting = makeFixture(`${logLabel}-waiting`, { ebpCode: UNSERVED_EBP_CODE });
  const pipeline = await startPipeline({
    cards: [{ algorithm: 'RSA', ebpCodes: [SERVED_EBP_CODE] }],
    fixtures: [uploaded, rejected, waiting],
    extraEnv: {
      CEB179_REPORTER_MAX_TRANSPORT_RETRIES: '0',
      CEB179_ASSEMBLER_LOOKUP_RETRIES: '1',
      CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS: '300',
    },
    logLabel,
  });
  const status = async (sessionID: string) =>
    (await pipeline.pool.query<{ status: string }>('SELECT status FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0]?.status;
  const until = (sessionID: string, expected: string) =>
    waitFor(`${sessionID} ${expected}`, async () => ((await status(sessionID)) === expected ? true : undefined), 30_000);
  const sessions = { uploaded: randomUUID(), rejected: randomUUID(), waiting: randomUUID(), unknown: randomUUID() };
  const first = (f: ReturnType<typeof makeFixture>) => f.payment_order[0]?.order_no as string;
  const orders = { uploaded: first(uploaded), rejected: first(rejected), waiting: first(waiting), unknown: `SO-${logLabel}-NO-SUCH-ORDER` };
  try {
    const fire = (key: keyof typeof sessions) =>
      pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo: orders[key], sessionID: sessions[key] });
    await fire('uploaded');
    await until(sessions.uploaded, 'uploaded');
    pipeline.customs.failNextUploads(1, 503);
    await fire('rejected');
    await until(sessions.rejected, 'upload_rejected');
    await fire('waiting');
    await until(sessions.waiting, 'assembled');
    await fire('unknown');
    await until(sessions.unknown, 'data_fault');
  } catch (error) {
    await pipeline.stop();
    throw error;
  }
  const rejectedRequest = async (key: string) => {
    const fixture = makeFixture(`${logLabel}-${key}`);
    await insertSource(pipeline.pool, SOURCE_SCHEMA, fixture);
    const request = { sessionID: randomUUID(), orderNo: first(fixture) };
    pipeline.customs.failNextUploads(1, 503);
    await pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, ...request });
    await until(request.sessionID, 'upload_rejected');
    return request;
  };
  return { pipeline, sessions, orders, status, until, rejectedRequest };
}
