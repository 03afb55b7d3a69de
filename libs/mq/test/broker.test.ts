import * as amqp from 'amqplib';
import { Exchanges, Queues } from '@ceb179/contracts';
import { createLogger } from '@ceb179/logger';
import { createTestVhost, testInfra, waitFor, type TestVhost } from '@ceb179/testkit';
import { ack, Broker, deadLetter, declareWorkQueue, delayQueueName, Headers, retryIn, type IncomingMessage } from '../src';

const logger = createLogger({ service: 'test', level: 'silent' });
const QUEUE = Queues.callbacks;

/** Closes every client connection of the vhost from the broker side, as a broker restart would. */
async function closeConnections(vhost: string): Promise<number> {
  const auth = `Basic ${Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64')}`;
  const list = (await (
    await fetch(`${testInfra.rabbitApiUrl}/vhosts/${vhost}/connections`, { headers: { authorization: auth } })
  ).json()) as Array<{ name: string }>;
  for (const c of list)
    await fetch(`${testInfra.rabbitApiUrl}/connections/${encodeURIComponent(c.name)}`, {
      method: 'DELETE',
      headers: { authorization: auth },
    });
  return list.length;
}

describe('Broker (real RabbitMQ)', () => {
  let vhost: TestVhost;
  let broker: Broker;
  let raw: amqp.ChannelModel;

  beforeEach(async () => {
    vhost = await createTestVhost();
    broker = new Broker({
      url: vhost.url,
      logger,
      connectionName: 'broker-test',
      declareTopology: (c) => declareWorkQueue(c, QUEUE),
      reconnectMaxDelayMs: 500,
      maxHandlerFailures: 3,
    });
    await broker.start();
    raw = await amqp.connect(vhost.url);
  });

  afterEach(async () => {
    await broker.stop();
    await raw.close().catch(() => undefined);
    await vhost.delete();
  });

  it('declares a durable quorum queue with a delivery limit and dead-lettering', async () => {
    const auth = `Basic ${Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64')}`;
    const info = (await (
      await fetch(`${testInfra.rabbitApiUrl}/queues/${vhost.name}/${QUEUE}`, { headers: { authorization: auth } })
    ).json()) as {
      durable: boolean;
      arguments: Record<string, unknown>;
    };
    expect(info.durable).toBe(true);
    expect(info.arguments).toMatchObject({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 10,
      'x-dead-letter-exchange': Exchanges.deadLetters,
    });
  });

  it('publishes persistent messages with the sessionID, and acks only what the handler accepted', async () => {
    const seen: IncomingMessage[] = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        seen.push(m);
        return ack;
      },
      { prefetch: 4 },
    );
    await broker.sendToQueue(QUEUE, { hello: 'world' }, { sessionID: 's-1' });
    await waitFor('delivery', async () => (seen.length === 1 ? true : undefined));
    expect(seen[0]?.payload).toEqual({ hello: 'world' });
    expect(seen[0]?.sessionID).toBe('s-1');
    expect(seen[0]?.raw.properties.deliveryMode).toBe(2);
    const channel = await raw.createChannel();
    await waitFor('queue drained', async () => ((await channel.checkQueue(QUEUE)).messageCount === 0 ? true : undefined));
  });

  it('retries through a delay queue, counting retries, then acks', async () => {
    const deliveries: Array<{ at: number; retries: number }> = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        deliveries.push({ at: Date.now(), retries: m.retries });
        return m.retries < 2 ? retryIn(1_000, 'not yet') : ack;
      },
      { prefetch: 1 },
    );
    await broker.sendToQueue(QUEUE, { n: 1 }, { sessionID: 's-2' });
    await waitFor('three deliveries', async () => (deliveries.length === 3 ? true : undefined), 10_000);
    expect(deliveries.map((d) => d.retries)).toEqual([0, 1, 2]);
    expect((deliveries[1]?.at ?? 0) - (deliveries[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('parks retries in quorum delay queues (dead-lettered back at least once)', async () => {
    await broker.consume(QUEUE, async (m) => (m.retries < 1 ? retryIn(1_000, 'not yet') : ack), { prefetch: 1 });
    await broker.sendToQueue(QUEUE, { n: 1 }, { sessionID: 's-2b' });
    const auth = `Basic ${Buffer.from(`${testInfra.rabbitUser}:${testInfra.rabbitPassword}`).toString('base64')}`;
    const delayQueue = delayQueueName(QUEUE, 1_000);
    const info = await waitFor('the delay queue', async () => {
      const response = await fetch(`${testInfra.rabbitApiUrl}/queues/${vhost.name}/${delayQueue}`, { headers: { authorization: auth } });
      return response.ok ? ((await response.json()) as { type: string; arguments: Record<string, unknown> }) : undefined;
    });
    expect(info.type).toBe('quorum');
    // Back through the queue's own retry exchange: no user may write to the default exchange.
    expect(info.arguments).toMatchObject({
      'x-message-ttl': 1_000,
      'x-dead-letter-exchange': `${QUEUE}.retry`,
      'x-dead-letter-routing-key': 'due',
      'x-dead-letter-strategy': 'at-least-once',
    });
  });

  it('still retries through a classic delay queue an earlier version left, without losing its connection', async () => {
    const channel = await raw.createChannel();
    await channel.assertQueue(delayQueueName(QUEUE, 1_000), {
      durable: true,
      arguments: { 'x-message-ttl': 1_000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': QUEUE },
    });
    const changes: boolean[] = [];
    broker.onConnectionChange((up) => changes.push(up));
    const retries: number[] = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        retries.push(m.retries);
        return m.retries < 1 ? retryIn(1_000, 'not yet') : ack;
      },
      { prefetch: 1 },
    );
    await broker.sendToQueue(QUEUE, { n: 1 }, { sessionID: 's-2c' });
    await waitFor('the retry', async () => (retries.length === 2 ? true : undefined), 10_000);
    expect(retries).toEqual([0, 1]);
    expect(changes).toEqual([]);
    expect(broker.connected).toBe(true);
  });

  it('dead-letters with the reason and the source queue', async () => {
    await broker.consume(QUEUE, async () => deadLetter('payload breaks its contract'), { prefetch: 1 });
    await broker.sendToQueue(QUEUE, { bad: true }, { sessionID: 's-3' });
    const channel = await raw.createChannel();
    const dead = await waitFor('dead letter', async () => (await channel.get(Queues.deadLetters, { noAck: true })) || undefined);
    expect(JSON.parse(dead.content.toString())).toEqual({ bad: true });
    expect(dead.properties.headers?.[Headers.deadLetterReason]).toBe('payload breaks its contract');
    expect(dead.properties.headers?.[Headers.deadLetterQueue]).toBe(QUEUE);
  });

  it('retries a message whose handler throws after a back-off, apart from its own retries, and dead-letters it with the error once failures run out', async () => {
    const attempts: Array<{ at: number; retries: number }> = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        attempts.push({ at: Date.now(), retries: m.retries });
        throw new Error('database down');
      },
      { prefetch: 1 },
    );
    await broker.sendToQueue(QUEUE, { poison: true }, { sessionID: 's-4' });
    const channel = await raw.createChannel();
    const dead = await waitFor(
      'poison dead-lettered',
      async () => (await channel.get(Queues.deadLetters, { noAck: true })) || undefined,
      30_000,
    );
    expect(JSON.parse(dead.content.toString())).toEqual({ poison: true });
    expect(dead.properties.headers?.[Headers.deadLetterReason]).toBe('handler failed 3 times: database down');
    expect(attempts.map((a) => a.retries)).toEqual([0, 0, 0]);
    // Not straight back to the queue: each failure waits (1 s, then 2 s in the 3 s bucket).
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)).toBeGreaterThanOrEqual(2_700);
  }, 40_000);

  it('keeps a message through a dependency outage without spinning, and handles it when the dependency is back', async () => {
    // Failures used to go straight back to the queue (500 ms apart) and count against the quorum
    // delivery limit: about 5 s of Postgres being down dead-lettered requests customs was promised.
    const outageUntil = Date.now() + 3_500;
    let attempts = 0;
    let handled = false;
    await broker.consume(
      QUEUE,
      async () => {
        attempts += 1;
        if (Date.now() < outageUntil) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        handled = true;
        return ack;
      },
      { prefetch: 1 },
    );
    await broker.sendToQueue(QUEUE, { request: 1 }, { sessionID: 's-4b' });
    await waitFor('handled after the outage', async () => (handled ? true : undefined), 20_000);
    expect(attempts).toBe(3);
    const channel = await raw.createChannel();
    expect(await channel.get(Queues.deadLetters, { noAck: true })).toBe(false);
  }, 40_000);

  it('reconnects after the broker drops the connection, and keeps consuming', async () => {
    const seen: unknown[] = [];
    await broker.consume(
      QUEUE,
      async (m) => {
        seen.push(m.payload);
        return ack;
      },
      { prefetch: 1 },
    );
    const changes: boolean[] = [];
    broker.onConnectionChange((up) => changes.push(up));
    await waitFor('connection listed', async () => ((await closeConnections(vhost.name)) > 0 ? true : undefined), 15_000);
    await waitFor('reconnected', async () => (changes.includes(false) && broker.connected ? true : undefined), 15_000);
    await broker.sendToQueue(QUEUE, { after: 'reconnect' }, { sessionID: 's-5' });
    await waitFor('delivery after reconnect', async () => (seen.length === 1 ? true : undefined), 10_000);
    expect(changes).toEqual([false, true]);
  }, 40_000);

  it('refuses to publish while disconnected with a transport error', async () => {
    await broker.stop();
    await expect(broker.sendToQueue(QUEUE, {}, { sessionID: 's-6' })).rejects.toMatchObject({ code: 'TRANSPORT' });
  });
});
