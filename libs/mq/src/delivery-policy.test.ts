import type { ConsumeMessage, Options } from 'amqplib';
import { Exchanges, retryExchangeFor } from '@ceb179/contracts';
import { AppError } from '@ceb179/errors';
import { createLogger } from '@ceb179/logger';
import { DeliveryPolicy, type DeliveryChannel, type DeliveryPolicyOptions, type RetryPublisher } from './delivery-policy';
import { ack, deadLetter, Headers, retryIn, type HandlerOutcome, type IncomingMessage, type MessageHandler } from './message';

const QUEUE = 'ceb179.test-work';

/** Records how each delivery was settled, as a consumer channel would. */
class FakeChannel implements DeliveryChannel {
  readonly settled: { how: 'ack' | 'nack'; requeue?: boolean }[] = [];
  ack(): void {
    this.settled.push({ how: 'ack' });
  }
  nack(_message: ConsumeMessage, _allUpTo?: boolean, requeue?: boolean): void {
    this.settled.push({ how: 'nack', requeue });
  }
}

/** Records confirmed publishes and delay queues; `down` makes RabbitMQ refuse them, as when it goes away. */
class FakePublisher implements RetryPublisher {
  readonly published: { exchange: string; routingKey: string; content: Buffer; properties: Options.Publish }[] = [];
  readonly delayQueues: { workQueue: string; bucketMs: number }[] = [];
  down = false;
  async publish(exchange: string, routingKey: string, content: Buffer, properties: Options.Publish): Promise<void> {
    if (this.down) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    this.published.push({ exchange, routingKey, content, properties });
  }
  async ensureDelayQueue(workQueue: string, bucketMs: number): Promise<void> {
    if (this.down) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    this.delayQueues.push({ workQueue, bucketMs });
  }
  headersOfOnly(): Record<string, unknown> {
    expect(this.published).toHaveLength(1);
    return this.published[0]?.properties.headers as Record<string, unknown>;
  }
}

function delivery(headers: Record<string, unknown>, content = '{"sessionID":"s-1"}'): ConsumeMessage {
  return {
    content: Buffer.from(content, 'utf8'),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: QUEUE, consumerTag: 'c-1' },
    properties: {
      contentType: 'application/json',
      contentEncoding: undefined,
      headers,
      deliveryMode: 2,
      priority: undefined,
      correlationId: 's-1',
      replyTo: undefined,
      expiration: undefined,
      messageId: 's-1',
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
    },
  };
}

function setUp(options: Partial<DeliveryPolicyOptions> = {}) {
  const channel = new FakeChannel();
  const publisher = new FakePublisher();
  const policy = new DeliveryPolicy(publisher, {
    logger: createLogger({ service: 'delivery-policy-test', level: 'silent' }),
    requeuePauseMs: 0,
    ...options,
  });
  const run = async (handler: MessageHandler, headers: Record<string, unknown> = {}, content?: string) => {
    const message = delivery(headers, content);
    let json = true;
    let payload: unknown;
    try {
      payload = JSON.parse(message.content.toString('utf8'));
    } catch {
      json = false;
    }
    await policy.deliver(QUEUE, { channel, message, payload, json }, handler);
  };
  return { channel, publisher, run };
}

const returning =
  (outcome: HandlerOutcome): MessageHandler =>
  async () =>
    outcome;
const throwing =
  (error: unknown): MessageHandler =>
  async () => {
    throw error;
  };
const outage = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('DeliveryPolicy', () => {
  it('acks what the handler acks, and publishes nothing', async () => {
    const { channel, publisher, run } = setUp();
    await run(returning(ack));
    expect(channel.settled).toEqual([{ how: 'ack' }]);
    expect(publisher.published).toEqual([]);
  });

  it('shows the handler the parsed payload, the sessionID and the counters from the headers', async () => {
    const { run } = setUp();
    const seen: IncomingMessage[] = [];
    await run(
      async (message) => {
        seen.push(message);
        return ack;
      },
      { [Headers.sessionID]: 's-header', 'x-delivery-count': 2, [Headers.retries]: 3 },
    );
    expect(seen[0]).toMatchObject({
      payload: { sessionID: 's-1' },
      sessionID: 's-header',
      deliveryCount: 2,
      retries: 3,
      redelivered: false,
    });
  });

  it('parks a retry in the delay queue of the next bucket, counts it, forgets the failures in a row, then acks', async () => {
    const { channel, publisher, run } = setUp();
    await run(returning(retryIn(2_500, 'not yet')), {
      [Headers.retries]: 1,
      [Headers.failures]: 4,
      'x-delivery-count': 3,
      'x-death': [{}],
      other: 'kept',
    });
    expect(publisher.delayQueues).toEqual([{ workQueue: QUEUE, bucketMs: 3_000 }]);
    expect(publisher.published[0]).toMatchObject({ exchange: retryExchangeFor(QUEUE), routingKey: '3000ms' });
    expect(publisher.published[0]?.properties.persistent).toBe(true);
    expect(publisher.headersOfOnly()).toEqual({ [Headers.retries]: 2, other: 'kept' });
    expect(channel.settled).toEqual([{ how: 'ack' }]);
  });

  it('dead-letters with the reason and the source queue, then acks', async () => {
    const { channel, publisher, run } = setUp();
    await run(returning(deadLetter('breaks the contract')), { other: 'kept' });
    expect(publisher.published[0]).toMatchObject({ exchange: Exchanges.deadLetters, routingKey: QUEUE });
    expect(publisher.published[0]?.content.toString('utf8')).toBe('{"sessionID":"s-1"}');
    expect(publisher.headersOfOnly()).toEqual({
      other: 'kept',
      [Headers.deadLetterReason]: 'breaks the contract',
      [Headers.deadLetterQueue]: QUEUE,
    });
    expect(channel.settled).toEqual([{ how: 'ack' }]);
  });

  it("leaves a dead letter RabbitMQ would not take to the queue's own dead-lettering (nack without requeue)", async () => {
    const { channel, publisher, run } = setUp();
    publisher.down = true;
    await run(returning(deadLetter('breaks the contract')));
    expect(channel.settled).toEqual([{ how: 'nack', requeue: false }]);
  });

  it('dead-letters a message that is not JSON without running the handler', async () => {
    const { channel, publisher, run } = setUp();
    let ran = false;
    await run(
      async () => {
        ran = true;
        return ack;
      },
      {},
      'not json{',
    );
    expect(ran).toBe(false);
    expect(publisher.headersOfOnly()[Headers.deadLetterReason]).toBe('message is not JSON');
    expect(channel.settled).toEqual([{ how: 'ack' }]);
  });

  it('retries a dependency outage with a growing back-off, counted as an outage and not as a failure', async () => {
    const { channel, publisher, run } = setUp();
    await run(throwing(outage()), { [Headers.outageRetries]: 2, [Headers.failures]: 5 });
    expect(publisher.delayQueues).toEqual([{ workQueue: QUEUE, bucketMs: 10_000 }]); // 1 s * 2^2 = 4 s -> the 10 s bucket
    expect(publisher.headersOfOnly()).toEqual({ [Headers.outageRetries]: 3, [Headers.failures]: 5 });
    expect(channel.settled).toEqual([{ how: 'ack' }]);
  });

  it('never makes a message poison for an outage, however long it lasts; the delay stops growing at its cap', async () => {
    const { publisher, run } = setUp({ maxHandlerFailures: 3, outageRetryMaxDelayMs: 3_000 });
    await run(throwing(new AppError('TRANSPORT', 'Redis stalled')), { [Headers.outageRetries]: 500 });
    expect(publisher.published[0]?.exchange).toBe(retryExchangeFor(QUEUE));
    expect(publisher.delayQueues).toEqual([{ workQueue: QUEUE, bucketMs: 3_000 }]);
  });

  it('retries a handler failure with a back-off, counting the failures in a row', async () => {
    const { channel, publisher, run } = setUp();
    await run(throwing(new Error('a bug')), { [Headers.failures]: 1 });
    expect(publisher.delayQueues).toEqual([{ workQueue: QUEUE, bucketMs: 3_000 }]); // second failure: 2 s -> the 3 s bucket
    expect(publisher.headersOfOnly()).toEqual({ [Headers.failures]: 2 });
    expect(channel.settled).toEqual([{ how: 'ack' }]);
  });

  it('dead-letters a message whose handler failed maxHandlerFailures times in a row, with the last error', async () => {
    const { channel, publisher, run } = setUp({ maxHandlerFailures: 3 });
    await run(throwing(new Error('a bug')), { [Headers.failures]: 2 });
    expect(publisher.published[0]?.exchange).toBe(Exchanges.deadLetters);
    expect(publisher.headersOfOnly()[Headers.deadLetterReason]).toBe('handler failed 3 times: a bug');
    expect(channel.settled).toEqual([{ how: 'ack' }]);
  });

  it('returns the message to its queue when RabbitMQ cannot take the retry either (handler failure or outage)', async () => {
    for (const handler of [throwing(new Error('a bug')), throwing(outage())]) {
      const { channel, publisher, run } = setUp();
      publisher.down = true;
      await run(handler);
      expect(channel.settled).toEqual([{ how: 'nack', requeue: true }]);
    }
  });

  it('returns the message to its queue when a retry the handler asked for cannot be parked', async () => {
    const { channel, publisher, run } = setUp();
    publisher.down = true;
    await run(returning(retryIn(1_000, 'later')));
    expect(channel.settled).toEqual([{ how: 'nack', requeue: true }]);
  });

  it('does not throw when the channel closed before the ack (RabbitMQ redelivers the message)', async () => {
    const { publisher, run, channel } = setUp();
    channel.ack = () => {
      throw new Error('Channel closed');
    };
    await expect(run(returning(ack))).resolves.toBeUndefined();
    expect(publisher.published).toEqual([]);
  });
});
