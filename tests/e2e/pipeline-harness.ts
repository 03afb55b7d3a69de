import { randomUUID } from 'node:crypto';
import type { Pipeline } from '@ceb179/harness';

/**
 * The whole-pipeline harness now lives in @ceb179/testkit (the chaos tool uses it too); this
 * module keeps the tests' imports as they were.
 */
export {
  CARD_PIN,
  SOURCE_SCHEMA,
  ledgerRow,
  readyText,
  startPipeline,
  type CardSpec,
  type Pipeline,
  type PipelineOptions,
  type PipelineService,
} from '@ceb179/harness';

/** Fires one customs callback per orderNo at once; each must be answered 10000. Returns the sessionIDs. */
export async function fire(pipeline: Pipeline, orderNos: string[]): Promise<string[]> {
  const results = await Promise.all(
    orderNos.map((orderNo) => pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: randomUUID() })),
  );
  for (const r of results) expect(r.body).toMatchObject({ code: '10000' });
  return results.map((r) => r.sessionID);
}

/** Each sessionID reached customs exactly once, accepted and verified. */
export function expectExactlyOnceVerified(pipeline: Pipeline, sessionIDs: string[]): void {
  const uploads = pipeline.customs.uploads();
  for (const sessionID of sessionIDs) {
    const mine = uploads.filter((u) => u.sessionID === sessionID);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ code: '10000', verified: true });
  }
}
