import { Queues } from '@ceb179/contracts';
import { randomUUID } from 'node:crypto';
import { makeFixture, testInfra, waitFor } from '@ceb179/testkit';
import { startPipeline, type Pipeline } from './pipeline-harness';

/**
 * Consumers come back after the broker closes their channel or cancels them, without stopping
 * RabbitMQ (the shared one stays up: this runs in the parallel phase): the assembler's connection
 * is closed from the management API, and the reporter's queue is deleted under it (basic.cancel).
 * Callbacks sent afterwards are each answered at once and uploaded exactly once.
 */
const auth = `Basic ${Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64')}`;

async function api(method: string, path: string): Promise<Response> {
  return fetch(`${testInfra.rabbitApiUrl}${path}`, { method, headers: { authorization: auth }, signal: AbortSignal.timeout(10_000) });
}

/** Consumers on a queue right now, from the management API (eventually consistent). */
async function consumers(vhost: string, queue: string): Promise<number | undefined> {
  const response = await api('GET', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`);
  if (!response.ok) return undefined;
  return ((await response.json()) as { consumers?: number }).consumers;
}

describe('consumers closed or cancelled by the broker', () => {
  const fixtures = Array.from({ length: 9 }, (_, i) => makeFixture(`recover${i}`));
  const orders = fixtures.map((f) => f.payment_order[0]!.order_no);
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ algorithm: 'RSA', fixtures, logLabel: 'recovery' });
  }, 60_000);
  afterAll(() => pipeline?.stop());

  async function fireAndUpload(orderNos: string[]): Promise<void> {
    const sessionIDs = orderNos.map(() => randomUUID().replace(/-/g, ''));
    const results = await Promise.all(
      orderNos.map((orderNo, i) => pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo, sessionID: sessionIDs[i] })),
    );
    for (const result of results) {
      expect({ code: (result.body as { code?: string }).code, fast: result.latencyMs < 2_000 }).toEqual({ code: '10000', fast: true });
    }
    await waitFor('the uploads', async () => (sessionIDs.every((s) => pipeline.customs.accepted().has(s)) ? true : undefined), 30_000, 200);
    const uploads = pipeline.customs.uploads();
    for (const sessionID of sessionIDs) expect(uploads.filter((u) => u.sessionID === sessionID && u.code === '10000')).toHaveLength(1);
  }

  it('the assembler comes back after the broker closes its connection', async () => {
    await fireAndUpload(orders.slice(0, 3));
    // The management API lists a connection a few seconds after it opened.
    const assembler = await waitFor(
      'the assembler connection listed',
      async () => {
        const listed = await api('GET', `/vhosts/${encodeURIComponent(pipeline.vhost.name)}/connections`);
        const connections = (await listed.json()) as Array<{ name: string; client_properties?: { connection_name?: string } }>;
        return connections.find((c) => c.client_properties?.connection_name === 'ceb179-assembler');
      },
      20_000,
      500,
    );
    expect((await api('DELETE', `/connections/${encodeURIComponent(assembler.name)}`)).ok).toBe(true);

    await waitFor(
      'the assembler reconnected',
      async () => (pipeline.current('assembler')!.output().split('RabbitMQ connected').length > 2 ? true : undefined),
      20_000,
      200,
    );
    await fireAndUpload(orders.slice(3, 6));
  }, 90_000);

  it('the reporter comes back after the broker cancels its consumer (queue deleted and re-declared)', async () => {
    const queue = Queues.signatures;
    await waitFor(
      'the reporter consuming',
      async () => ((await consumers(pipeline.vhost.name, queue)) === 1 ? true : undefined),
      20_000,
      500,
    );
    expect((await api('DELETE', `/queues/${encodeURIComponent(pipeline.vhost.name)}/${queue}`)).ok).toBe(true);

    await waitFor(
      'the reporter told of the cancel',
      async () => (pipeline.current('reporter')!.output().includes('RabbitMQ cancelled the consumer') ? true : undefined),
      10_000,
      100,
    );
    await waitFor(
      'the reporter consuming the re-declared queue',
      async () => ((await consumers(pipeline.vhost.name, queue)) === 1 ? true : undefined),
      30_000,
      500,
    );
    expect(pipeline.current('reporter')!.output()).toContain('consumer back');
    await fireAndUpload(orders.slice(6, 9));
  }, 90_000);
});
