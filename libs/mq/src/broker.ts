import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Exchanges } from '@ceb179/contracts';
import { AppError, toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { delayBucketFor, delayQueueName } from './delay-buckets';
import { Headers, type MessageHandler, type PublishOptions } from './message';
import { workQueueArguments } from './queue-arguments';

export interface BrokerOptions {
  url: string;
  logger: Logger;
  /** Shown in the RabbitMQ management UI as the connection name. */
  connectionName: string;
  /** Declares exchanges, queues and bindings; run after every (re)connect. Must be idempotent. */
  declareTopology?: (channel: Channel) => Promise<void>;
  publishTimeoutMs?: number;
  reconnectMaxDelayMs?: number;
}

export interface ConsumeOptions {
  prefetch: number;
}

interface Consumer {
  queue: string;
  handler: MessageHandler;
  options: ConsumeOptions;
  channel?: Channel;
  tag?: string;
  paused: boolean;
}

/**
 * The one door to RabbitMQ: persistent messages on a confirm channel, manual acks after the
 * handler has committed its side effect, bounded prefetch, delayed retries through delay
 * queues, dead-lettering, and reconnection with back-off that re-declares the topology and
 * re-attaches the consumers. Handlers must be idempotent: a message whose ack was lost with a
 * connection is delivered again.
 */
export class Broker {
  private connection: ChannelModel | undefined;
  private publishChannel: ConfirmChannel | undefined;
  private readonly consumers: Consumer[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly declaredDelayQueues = new Set<string>();
  private stopping = false;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private readonly listeners = new Set<(connected: boolean) => void>();

  constructor(private readonly options: BrokerOptions) {}

  get connected(): boolean {
    return this.publishChannel !== undefined;
  }

  /** Called with true on every (re)connect and false on every loss. */
  onConnectionChange(listener: (connected: boolean) => void): void {
    this.listeners.add(listener);
  }

  /** Connects once; throws if the broker cannot be reached. Reconnects on its own afterwards. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.connect();
  }

  /**
   * Starts without requiring the broker to be up: keeps trying in the background. For ingress,
   * which must keep answering customs while RabbitMQ is down.
   */
  startInBackground(): void {
    this.stopping = false;
    this.connect().catch(() => this.scheduleReconnect());
  }

  async publish(exchange: string, routingKey: string, payload: object, options: PublishOptions): Promise<void> {
    const channel = this.publishChannel;
    if (!channel) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    const content = Buffer.from(JSON.stringify(payload), 'utf8');
    const timeoutMs = this.options.publishTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('TRANSPORT', `publish not confirmed within ${timeoutMs} ms`)), timeoutMs);
      try {
        channel.publish(
          exchange,
          routingKey,
          content,
          {
            persistent: true,
            contentType: 'application/json',
            messageId: options.messageId ?? options.sessionID,
            correlationId: options.sessionID,
            timestamp: Math.floor(Date.now() / 1000),
            headers: { [Headers.sessionID]: options.sessionID, [Headers.schema]: 1, ...options.headers },
          },
          (error) => {
            clearTimeout(timer);
            if (error) reject(new AppError('TRANSPORT', 'RabbitMQ refused the message (nack)', { cause: error }));
            else resolve();
          },
        );
      } catch (error) {
        clearTimeout(timer);
        reject(new AppError('TRANSPORT', 'RabbitMQ publish failed', { cause: error }));
      }
    });
  }

  /** Sends straight to a queue through the default exchange. */
  async sendToQueue(queue: string, payload: object, options: PublishOptions): Promise<void> {
    await this.publish('', queue, payload, options);
  }

  async consume(queue: string, handler: MessageHandler, options: ConsumeOptions): Promise<void> {
    const consumer: Consumer = { queue, handler, options, paused: false };
    this.consumers.push(consumer);
    if (this.connection) await this.attach(consumer);
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
      if (this.connection && !consumer.tag) await this.attach(consumer);
    }
  }

  /** Drains: no new deliveries, waits for in-flight handlers, then closes channels and the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const consumer of this.consumers) await this.detach(consumer).catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    const connection = this.connection;
    this.connection = undefined;
    this.publishChannel = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }

  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.doConnect().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const { logger } = this.options;
    const connection = await amqp.connect(this.options.url, {
      clientProperties: { connection_name: this.options.connectionName },
    });
    try {
      connection.on('error', (error: Error) => logger.warn({ err: error.message }, 'RabbitMQ connection error'));
      connection.on('close', () => this.onConnectionLost(connection));
      connection.on('blocked', (reason: string) => logger.warn({ reason }, 'RabbitMQ blocked publishing'));
      const setup = await connection.createChannel();
      await this.options.declareTopology?.(setup);
      await setup.close();
      const publishChannel = await connection.createConfirmChannel();
      publishChannel.on('error', (error: Error) => logger.warn({ err: error.message }, 'RabbitMQ publish channel error'));
      publishChannel.on('close', () => {
        if (this.publishChannel === publishChannel) connection.close().catch(() => undefined);
      });
      this.connection = connection;
      this.publishChannel = publishChannel;
      this.declaredDelayQueues.clear();
      for (const consumer of this.consumers) if (!consumer.paused) await this.attach(consumer);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    this.attempt = 0;
    logger.info({ connection: this.options.connectionName }, 'RabbitMQ connected');
    for (const listener of this.listeners) listener(true);
  }

  private onConnectionLost(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.publishChannel = undefined;
    for (const consumer of this.consumers) {
      consumer.channel = undefined;
      consumer.tag = undefined;
    }
    for (const listener of this.listeners) listener(false);
    if (this.stopping) return;
    this.options.logger.warn('RabbitMQ connection lost; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer) return;
    const delay = Math.min(this.options.reconnectMaxDelayMs ?? 10_000, 250 * 2 ** this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((error: unknown) => {
        this.options.logger.warn({ err: toAppError(error).message, retryInMs: delay }, 'RabbitMQ unreachable');
        this.scheduleReconnect();
      });
    }, delay);
  }

  private async attach(consumer: Consumer): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error.message, queue: consumer.queue }, 'consumer channel error'));
    await channel.prefetch(consumer.options.prefetch);
    consumer.channel = channel;
    const reply = await channel.consume(consumer.queue, (message) => {
      if (message) this.track(this.deliver(consumer, channel, message));
    });
    consumer.tag = reply.consumerTag;
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

  private async deliver(consumer: Consumer, channel: Channel, message: ConsumeMessage): Promise<void> {
    const headers = message.properties.headers ?? {};
    const sessionID = (headers[Headers.sessionID] as string | undefined) ?? (message.properties.correlationId as string | undefined);
    const log = this.options.logger.child({ sessionID, queue: consumer.queue });
    let payload: unknown;
    try {
      payload = JSON.parse(message.content.toString('utf8'));
    } catch {
      log.error('message is not JSON; dead-lettering');
      safely(() => channel.nack(message, false, false));
      return;
    }
    try {
      const outcome = await consumer.handler({
        payload,
        sessionID,
        deliveryCount: Number(headers['x-delivery-count'] ?? 0),
        retries: Number(headers[Headers.retries] ?? 0),
        redelivered: message.fields.redelivered,
        raw: message,
      });
      if (outcome.kind === 'ack') {
        safely(() => channel.ack(message));
      } else if (outcome.kind === 'dead-letter') {
        log.warn({ reason: outcome.reason }, 'dead-lettering message');
        await this.deadLetter(consumer.queue, message, outcome.reason).then(
          () => safely(() => channel.ack(message)),
          // Could not attach the reason: let the queue's own dead-lettering take it, without one.
          () => safely(() => channel.nack(message, false, false)),
        );
      } else {
        await this.republishDelayed(consumer.queue, message, outcome.delayMs);
        log.info({ reason: outcome.reason, delayMs: outcome.delayMs }, 'retry scheduled');
        safely(() => channel.ack(message));
      }
    } catch (error) {
      // An unexpected failure: give it back to the queue after a pause so a broken dependency
      // does not spin; the quorum delivery limit dead-letters a message that never succeeds.
      log.error({ err: toAppError(error).message }, 'handler failed; returning message to the queue');
      await new Promise((resolve) => setTimeout(resolve, 500));
      safely(() => channel.nack(message, false, true));
    }
  }

  /** Moves a message to the dead-letter exchange with why and from where, for whoever inspects it. */
  private async deadLetter(queue: string, message: ConsumeMessage, reason: string): Promise<void> {
    const channel = this.publishChannel;
    if (!channel) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    const headers = {
      ...(message.properties.headers ?? {}),
      [Headers.deadLetterReason]: reason.slice(0, 1000),
      [Headers.deadLetterQueue]: queue,
    };
    await new Promise<void>((resolve, reject) => {
      channel.publish(Exchanges.deadLetters, queue, message.content, { ...message.properties, headers, persistent: true }, (error) =>
        error ? reject(new AppError('TRANSPORT', 'dead letter not confirmed', { cause: error })) : resolve(),
      );
    });
  }

  private async republishDelayed(queue: string, message: ConsumeMessage, delayMs: number): Promise<void> {
    const channel = this.publishChannel;
    if (!channel) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    const bucket = delayBucketFor(delayMs);
    const delayQueue = delayQueueName(queue, bucket);
    if (!this.declaredDelayQueues.has(delayQueue)) {
      await channel.assertQueue(delayQueue, {
        durable: true,
        arguments: { 'x-message-ttl': bucket, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
      });
      this.declaredDelayQueues.add(delayQueue);
    }
    const headers = { ...(message.properties.headers ?? {}) };
    delete headers['x-delivery-count'];
    delete headers['x-death'];
    headers[Headers.retries] = Number(headers[Headers.retries] ?? 0) + 1;
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(delayQueue, message.content, { ...message.properties, headers, persistent: true }, (error) =>
        error ? reject(new AppError('TRANSPORT', 'delayed retry not confirmed', { cause: error })) : resolve(),
      );
    });
  }
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // The channel closed under us: the broker redelivers the message, and handlers are idempotent.
  }
}

export { workQueueArguments };
