import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { delayQueueName, delayRoutingKey, retryExchangeFor, RETRY_DUE_ROUTING_KEY } from '@ceb179/contracts';
import { toAppError } from '@ceb179/errors';
import { BrokerConnection, type ConnectionOptions } from './connection';
import { DeadlineOrder, deadlineOf } from './deadline-order';
import { DeliveryPolicy, type Delivery, type DeliveryPolicyOptions } from './delivery-policy';
import { Headers, type MessageHandler, type PublishOptions } from './message';
import { delayQueueArguments, workQueueArguments } from './queue-arguments';

/** Connection settings (dialling, heartbeats, reconnection, publish time limit) and the delivery policy's. */
export interface BrokerOptions extends ConnectionOptions, Omit<DeliveryPolicyOptions, 'logger'> {}

/** Pause before a consumer whose channel the broker closed, or which it cancelled, consumes again. */
const CONSUMER_RECOVERY_DELAY_MS = 1_000;

export interface ConsumeOptions {
  /** Deliveries held unacked at once. */
  prefetch: number;
  /**
   * Handlers running at once (default: prefetch). Below prefetch, the deliveries held but not yet
   * started are taken earliest deadline first (DeadlineOrder), not in arrival order.
   */
  concurrency?: number;
}

/** A delivery held by a consumer, on the channel it arrived on. */
interface HeldDelivery extends Delivery {
  channel: Channel;
}

interface Consumer {
  queue: string;
  handler: MessageHandler;
  options: ConsumeOptions;
  channel?: Channel;
  tag?: string;
  paused: boolean;
  /** Set while a re-attach after a channel close or a broker cancel is scheduled. */
  recovery?: NodeJS.Timeout;
  /** Held deliveries no handler has started yet, and how many handlers run. */
  waiting: DeadlineOrder<HeldDelivery>;
  running: number;
}

/**
 * The one door to RabbitMQ: persistent messages published with confirms (publishConfirmed),
 * manual acks after the handler has committed its side effect, bounded prefetch, delayed
 * retries and dead-lettering (DeliveryPolicy), and reconnection with back-off that re-declares
 * the topology and re-attaches the consumers (BrokerConnection). Handlers must be idempotent: a
 * message whose ack was lost with a connection is delivered again.
 */
export class Broker {
  private readonly connection: BrokerConnection;
  private readonly policy: DeliveryPolicy;
  private readonly consumers: Consumer[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly declaredDelayQueues = new Set<string>();

  constructor(private readonly options: BrokerOptions) {
    this.connection = new BrokerConnection(options, {
      connected: async () => {
        this.declaredDelayQueues.clear();
        for (const consumer of this.consumers) if (!consumer.paused) await this.attach(consumer);
      },
      lost: () => {
        for (const consumer of this.consumers) {
          consumer.channel = undefined;
          consumer.tag = undefined;
        }
      },
    });
    this.policy = new DeliveryPolicy(
      {
        publish: (exchange, routingKey, content, properties, what) =>
          this.connection.publish(exchange, routingKey, content, properties, what),
        ensureDelayQueue: (workQueue, bucketMs) => this.ensureDelayQueue(workQueue, bucketMs),
      },
      options,
    );
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** Called with true on every (re)connect and false on every loss. */
  onConnectionChange(listener: (connected: boolean) => void): void {
    this.connection.onConnectionChange(listener);
  }

  /**
   * Connects, retrying with back-off for up to `startupTimeoutMs` (a broker that is restarting
   * should not make every service exit and flap); throws after that. Reconnects on its own later.
   */
  async start(): Promise<void> {
    await this.connection.start();
  }

  /**
   * Starts without requiring the broker to be up: keeps trying in the background. For ingress,
   * which must keep answering customs while RabbitMQ is down.
   */
  startInBackground(): void {
    this.connection.startInBackground();
  }

  /** Each consumer's queue and whether it is attached right now (readiness: consumers attached). */
  consumerStates(): { queue: string; attached: boolean }[] {
    return this.consumers.map((c) => ({ queue: c.queue, attached: c.tag !== undefined }));
  }

  /** Readiness checks of a consuming service: connected, and every consumer (at least one) attached. */
  readiness(): { broker: boolean; consumers: boolean } {
    return { broker: this.connected, consumers: this.consumers.length > 0 && this.consumers.every((c) => c.tag !== undefined) };
  }

  /**
   * Messages ready in a queue (metrics), asked on a channel of its own: a missing queue closes the
   * channel it is asked on, and that must not be the publish channel. Undefined when unknown.
   */
  async queueDepth(queue: string): Promise<number | undefined> {
    const connection = this.connection.current;
    if (!connection) return undefined;
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch {
      return undefined;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /**
   * Publishes JSON to a named exchange and waits for the broker's confirm. With `mandatory`, a
   * message no queue is bound for comes back and the publish fails (TRANSPORT): the caller keeps
   * it and retries, instead of the broker dropping it.
   */
  async publish(exchange: string, routingKey: string, payload: object, options: PublishOptions): Promise<void> {
    const content = Buffer.from(JSON.stringify(payload), 'utf8');
    await this.connection.publish(
      exchange,
      routingKey,
      content,
      {
        persistent: true,
        mandatory: options.mandatory === true,
        contentType: 'application/json',
        messageId: options.messageId ?? options.sessionID,
        correlationId: options.sessionID,
        timestamp: Math.floor(Date.now() / 1000),
        headers: { [Headers.sessionID]: options.sessionID, [Headers.schema]: 1, ...options.headers },
      },
      'message',
    );
  }

  /**
   * Sends straight to a queue through the default exchange. For tests and tools run with an
   * administrator's credentials only: no service user may write to the default exchange.
   */
  async sendToQueue(queue: string, payload: object, options: PublishOptions): Promise<void> {
    await this.publish('', queue, payload, options);
  }

  async consume(queue: string, handler: MessageHandler, options: ConsumeOptions): Promise<void> {
    const consumer: Consumer = { queue, handler, options, paused: false, waiting: new DeadlineOrder(), running: 0 };
    this.consumers.push(consumer);
    if (this.connection.current) await this.attach(consumer);
  }

  /** Stops taking new deliveries from every queue; unacked ones return to the queue. */
  async pauseConsumers(): Promise<void> {
    for (const consumer of this.consumers) {
      consumer.paused = true;
      await this.detach(consumer);
    }
  }

  async resumeConsumers(): Promise<void> {
    for (const consumer of this.consumers) {
      consumer.paused = false;
      if (this.connection.current && !consumer.tag) await this.attach(consumer);
    }
  }

  /** Drains: no new deliveries, waits for in-flight handlers, then closes channels and the connection. */
  async stop(): Promise<void> {
    this.connection.stopReconnecting();
    for (const consumer of this.consumers) {
      if (consumer.recovery) clearTimeout(consumer.recovery);
      consumer.recovery = undefined;
      await this.detach(consumer).catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
    await this.connection.close();
  }

  private async attach(consumer: Consumer): Promise<void> {
    const connection = this.connection.current;
    if (!connection) return;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) =>
      this.options.logger.warn({ err: error.message, queue: consumer.queue }, 'consumer channel error'),
    );
    // The broker may close a consumer's channel alone (a delivery not acked within consumer_timeout,
    // an operator closing it) while the connection lives on: consume again on a new channel.
    channel.on('close', () => {
      if (consumer.channel !== channel) return; // detached on purpose, or the connection is being replaced
      consumer.channel = undefined;
      consumer.tag = undefined;
      // A lost connection closes its channels first; then the reconnect re-attaches everyone.
      setImmediate(() => {
        if (this.connection.current !== connection || this.connection.isStopping) return;
        this.options.logger.warn({ queue: consumer.queue }, 'consumer channel closed by the broker; consuming again');
        this.scheduleConsumerRecovery(consumer);
      });
    });
    consumer.channel = channel;
    try {
      await channel.prefetch(consumer.options.prefetch);
      const reply = await channel.consume(consumer.queue, (message) => {
        if (message) this.hold(consumer, channel, message);
        else this.consumerCancelled(consumer, channel);
      });
      consumer.tag = reply.consumerTag;
    } catch (error) {
      if (consumer.channel === channel) consumer.channel = undefined;
      await channel.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The broker cancelled the consumer (basic.cancel: its queue was deleted, or a quorum queue
   * lost its leader). Deliveries in hand are still acked on this channel; once they are done the
   * channel is closed and the consumer comes back, re-declaring the topology first so that a
   * deleted queue is there again.
   */
  private consumerCancelled(consumer: Consumer, channel: Channel): void {
    if (consumer.channel !== channel) return;
    this.options.logger.warn({ queue: consumer.queue }, 'RabbitMQ cancelled the consumer (queue deleted or moved); consuming again');
    consumer.tag = undefined;
    consumer.channel = undefined;
    void Promise.allSettled([...this.inFlight]).then(() => channel.close().catch(() => undefined));
    this.scheduleConsumerRecovery(consumer);
  }

  private scheduleConsumerRecovery(consumer: Consumer, attempt = 0): void {
    if (this.connection.isStopping || consumer.paused || consumer.recovery) return;
    const delayMs = Math.min(this.options.reconnectMaxDelayMs ?? 10_000, CONSUMER_RECOVERY_DELAY_MS * 2 ** attempt);
    consumer.recovery = setTimeout(() => {
      consumer.recovery = undefined;
      const connection: ChannelModel | undefined = this.connection.current;
      // Attached meanwhile (a reconnect re-attaches every consumer), or nothing to attach to yet.
      if (this.connection.isStopping || consumer.paused || consumer.tag || consumer.channel || !connection) return;
      this.connection
        .redeclareTopology(connection)
        .then(() => this.attach(consumer))
        .then(
          () => this.options.logger.info({ queue: consumer.queue }, 'consumer back'),
          (error: unknown) => {
            this.options.logger.warn(
              { err: toAppError(error).message, queue: consumer.queue, attempt },
              'consumer could not come back yet; retrying',
            );
            this.scheduleConsumerRecovery(consumer, attempt + 1);
          },
        );
    }, delayMs);
  }

  private async detach(consumer: Consumer): Promise<void> {
    const { channel, tag } = consumer;
    consumer.tag = undefined;
    consumer.channel = undefined;
    if (channel && tag) await channel.cancel(tag).catch(() => undefined);
    // Closing the channel returns unacked deliveries to the queue, but only once handlers finished.
    if (channel) {
      await Promise.allSettled([...this.inFlight]);
      await channel.close().catch(() => undefined);
    }
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Takes a delivery into the consumer's hands; handlers start on held ones by deadline (startHeld). */
  private hold(consumer: Consumer, channel: Channel, message: ConsumeMessage): void {
    let payload: unknown;
    let json = true;
    try {
      payload = JSON.parse(message.content.toString('utf8'));
    } catch {
      json = false;
    }
    consumer.waiting.push({ channel, message, payload, json }, json ? deadlineOf(payload) : undefined);
    this.startHeld(consumer);
  }

  private startHeld(consumer: Consumer): void {
    // Deliveries of a channel that closed are back in the queue already: never start them.
    consumer.waiting.retain((held) => held.channel === consumer.channel);
    const limit = consumer.options.concurrency ?? consumer.options.prefetch;
    while (consumer.running < limit) {
      const next = consumer.waiting.take();
      if (!next) return;
      consumer.running += 1;
      this.track(
        this.policy.deliver(consumer.queue, next, consumer.handler).finally(() => {
          consumer.running -= 1;
          this.startHeld(consumer);
        }),
      );
    }
  }

  /** Declares a work queue's delay queue of `bucketMs` once per connection (declareDelayQueue). */
  private async ensureDelayQueue(workQueue: string, bucketMs: number): Promise<void> {
    const delayQueue = delayQueueName(workQueue, bucketMs);
    if (this.declaredDelayQueues.has(delayQueue)) return;
    await this.declareDelayQueue(delayQueue, workQueue, bucketMs);
    this.declaredDelayQueues.add(delayQueue);
  }

  /**
   * Declares a delay queue (delayQueueArguments) and the work queue's retry exchange that leads
   * into it and back, on a channel of its own: a classic delay queue left by an earlier version
   * fails the declaration (other arguments), which must not close the publishing channel. Such a
   * queue is used as it is (it returns messages through the default exchange), with a warning
   * saying what to do.
   */
  private async declareDelayQueue(delayQueue: string, workQueue: string, bucketMs: number): Promise<void> {
    const retryExchange = retryExchangeFor(workQueue);
    const channel = await this.connection.openChannel();
    channel.on('error', () => undefined); // refusals arrive as rejected calls below
    try {
      await channel.assertExchange(retryExchange, 'direct', { durable: true });
      await channel.bindQueue(workQueue, retryExchange, RETRY_DUE_ROUTING_KEY);
      await channel.assertQueue(delayQueue, { durable: true, arguments: delayQueueArguments(workQueue, bucketMs) });
    } catch (error) {
      if ((error as { code?: number }).code !== 406) throw error;
      this.options.logger.warn(
        { queue: delayQueue },
        'delay queue is a classic queue from an earlier version: retries waiting in it can be lost when RabbitMQ restarts; delete it while it is empty',
      );
    }
    const bindChannel = await this.connection.openChannel();
    bindChannel.on('error', () => undefined);
    try {
      await bindChannel.bindQueue(delayQueue, retryExchange, delayRoutingKey(bucketMs));
    } finally {
      await bindChannel.close().catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  }
}

export { workQueueArguments };
