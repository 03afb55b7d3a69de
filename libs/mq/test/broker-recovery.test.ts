import * as amqp from 'amqplib';
import { Queues } from '@ceb179/contracts';
import { createLogger } from '@ceb179/logger';
import { createTestVhost, testInfra, waitFor, type TestVhost } from '@ceb179/testkit';
import { ack, Broker, declareWorkQueue, deadLetterCount, Headers, redriveDeadLetters, type IncomingMessage } from '../src';

/**
 * Outages are not poison, and consumers come back: a handler that cannot reach its dependency is
 * retried for as long as that lasts without spending the failure count; a consumer whose queue is
 * deleted (basic.cancel) consumes again; dead letters can be moved back.
 */
const logger = createLogger({ service: 'test', level: 'silent' });
const QUEUE = Queues.callbacks;
const auth = `Basic ${Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64')}`;

const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('Broker recovery (real RabbitMQ)', () => {
  let vhost: TestVhost;
  let broker: Broker;
  let raw: amqp.ChannelModel;

  beforeEach(async () => {
    vhost = await createTestVhost();
    broker = new Broker({
      url: vhost.url,
      logger,
      connectionName: 'broker-recovery-test',
      declareTopology: (c) => declareWorkQueue(c, QUEUE),
      reconnectMaxDelayMs: 500,
      maxHandlerFailures: 2,
      outageRetryMaxDelayMs: 1_000,
    });
    await broker.start();
    raw = await amqp.connect(vhost.url);
  });

  afterEach(async () => {
    await broker.stop();
    await raw.close().catch(() => undefined);
    await vhost.delete();
  });

  it('retries a handler whose dependency is unreachable for as long as it takes, never dead-lettering it', async () => {
    const seen: IncomingMessage[] = [];
    const outageAttempts = 5; // more than maxHandlerFailures (2), which a real failure would exhaust
    await broker.consume(
      QUEUE,
      async (m) => {
        seen.push(m);
        if (seen.length <= outageAttempts) throw unreachable();
        return ack;
      },
      { prefetch: 1 },
    );
    await broker.sendToQueue(QUEUE, { n: 1 }, { sessionID: 'outage-1' });

    await waitFor('delivery after the outage', async () => (seen.length === outageAttempts + 1 ? true : undefined), 30_000, 50);
    const last = seen.at(-1) as IncomingMessage;
    expect(last.raw.properties.headers?.[Headers.outageRetries]).toBe(outageAttempts);
    expect(last.raw.properties.headers?.[Headers.failures]).toBeUndefined();
    const channel = await raw.createConfirmChannel();
    expect(await deadLetterCount(channel)).toBe(0);
  });

  it('still dead-letters a message whose handler fails for another reason', async () => {
    let calls = 0;
    await broker.consume(
      QUEUE,
      async () => {
        calls += 1;
        throw new TypeError("Cannot read properties of undefined (reading 'orderNo')");
      },
      { prefetch: 1 },
    );
    await broker.sendToQueue(QUEUE, { n: 2 }, { sessionID: 'poison-1' });
    const channel = await raw.createConfirmChannel();
    await waitFor('the dead letter', async () => ((await deadLetterCount(channel)) === 1 ? true : undefined), 20_000, 100);
    expect(calls).toBe(2);
  });

  it('consumes again after the broker cancels the consumer (queue deleted), on the re-declared queue', async () => {
    const seen: string[] = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        seen.push(m.sessionID ?? '');
        return ack;
      },
      { prefetch: 4 },
    );
    await broker.sendToQueue(QUEUE, { n: 1 }, { sessionID: 'before' });
    await waitFor('first delivery', async () => (seen.includes('before') ? true : undefined));

    const deleted = await fetch(`${testInfra.rabbitApiUrl}/queues/${vhost.name}/${QUEUE}`, {
      method: 'DELETE',
      headers: { authorization: auth },
    });
    expect(deleted.ok).toBe(true);
    // The consumer re-declares the queue (its topology) and consumes again.
    const channel = await raw.createChannel();
    await waitFor(
      'a consumer on the re-declared queue',
      async () => {
        const probe = await raw.createChannel();
        probe.on('error', () => undefined);
        const info = await probe.checkQueue(QUEUE).catch(() => undefined);
        await probe.close().catch(() => undefined);
        return info && info.consumerCount === 1 ? true : undefined;
      },
      20_000,
      200,
    );
    await channel.close();
    await broker.sendToQueue(QUEUE, { n: 2 }, { sessionID: 'after' });
    await waitFor('delivery after the cancel', async () => (seen.includes('after') ? true : undefined), 10_000);
  });

  it('starts the deliveries it holds earliest deadline first, those already late after the ones that can make it', async () => {
    const now = Date.now();
    const backlog = [60, 50, 40, -10, 30, 20].map((s) => ({
      name: s < 0 ? 'late' : `due in ${s} s`,
      deadline: new Date(now + s * 1_000).toISOString(),
    }));
    for (const item of backlog) await broker.sendToQueue(QUEUE, item, { sessionID: item.name });
    const order: string[] = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        order.push((m.payload as { name: string }).name);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return ack;
      },
      { prefetch: 10, concurrency: 1 },
    );
    await waitFor('the backlog drained', async () => (order.length === backlog.length ? true : undefined), 10_000);
    // The first delivery starts on arrival, before the rest are held; the rest go by deadline.
    expect(order).toEqual(['due in 60 s', 'due in 20 s', 'due in 30 s', 'due in 40 s', 'due in 50 s', 'late']);
  });

  it('moves dead letters back to their source queue (npm run redrive)', async () => {
    let poisoned = true;
    const seen: IncomingMessage[] = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        if (poisoned) throw new TypeError('a bug, fixed later');
        seen.push(m);
        return ack;
      },
      { prefetch: 1 },
    );
    await broker.sendToQueue(QUEUE, { n: 3 }, { sessionID: 'redrive-1' });
    const channel = await raw.createConfirmChannel();
    await waitFor('the dead letter', async () => ((await deadLetterCount(channel)) === 1 ? true : undefined), 20_000, 100);

    poisoned = false; // the bug is fixed
    expect(await redriveDeadLetters(channel)).toEqual({ moved: { [QUEUE]: 1 }, left: 0 });
    await waitFor('the re-driven delivery', async () => (seen.length === 1 ? true : undefined), 10_000);
    expect(seen[0]?.sessionID).toBe('redrive-1');
    expect(seen[0]?.raw.properties.headers?.[Headers.deadLetterReason]).toBeUndefined();
    expect(seen[0]?.raw.properties.headers?.[Headers.failures]).toBeUndefined();
    expect(await deadLetterCount(channel)).toBe(0);
  });
});
