import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Exchanges, retryExchangeFor, RETRY_DUE_ROUTING_KEY } from '@ceb179/contracts';
import { AppError, isDependencyFailure, toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { DeadlineOrder, deadlineOf } from './deadline-order';
import { backoffMs, delayBucketFor, delayQueueName } from './delay-buckets';
import { Headers, type MessageHandler, type PublishOptions } from './message';
import { delayQueueArguments, workQueueArguments } from './queue-arguments';

export interface BrokerOptions {
  url: string;
  logger: Logger;
  /** Shown in the RabbitMQ management UI as the connection name. */
  connectionName: string;
  /** Declares exchanges, queues and bindings; run after every (re)connect. Must be idempotent. */
  declareTopology?: (channel: Channel) => Promise<void>;
  publishTimeoutMs?: number;
  reconnectMaxDelayMs?: number;
  /** How long start() keeps trying to reach the broker before it gives up (default 60 s). */
  startupTimeoutMs?: number;
  /**
   * A handler that throws for another reason than an unreachable dependency (a bug, a message
   * the code cannot handle) has its message retried with a growing back-off (1 s doubling to
   * 30 s); after this many failures in a row the message is dead-lettered with the last error as
   * reason. Default 20, about 8 minutes. Dependency outages never count here (see below).
   */
  maxHandlerFailures?: number;
  /**
   * A handler that throws because a dependency is unreachable or stalled (isDependencyFailure:
   * Postgres, Redis, RabbitMQ, network, timeouts) has its message retried with a back-off from 1 s
   * doubling up to this (default 30 s), for as long as the outage lasts: an outage is not poison.
   */
  outageRetryMaxDelayMs?: number;
  /** Seconds between AMQP heartbeats (a dead or stalled broker is noticed within about two); default 15. */
  heartbeatSeconds?: number;
  /** Longest wait for the TCP connection and AMQP handshake; default 10 s. */
  connectTimeoutMs?: number;
}

/** Failures of one message before it is taken for poison (see BrokerOptions.maxHandlerFailures). */
const DEFAULT_MAX_HANDLER_FAILURES = 20;
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

/** A delivery held by a consumer, its payload parsed once (undefined when it is not JSON). */
interface HeldDelivery {
  channel: Channel;
  message: ConsumeMessage;
  payload: unknown;
  json: boolean;
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
  /** Ids of mandatory messages the broker returned as unroutable, until their confirm arrives. */
  private readonly returned = new Set<string>();
  private publishSeq = 0;

  constructor(private readonly options: BrokerOptions) {}

  get connected(): boolean {
    return this.publishChannel !== undefined;
  }

  /** Called with true on every (re)connect and false on every loss. */
  onConnectionChange(listener: (connected: boolean) => void): void {
    this.listeners.add(listener);
  }

  /**
   * Connects, retrying with back-off for up to `startupTimeoutMs` (a broker that is restarting
   * should not make every service exit and flap); throws after that. Reconnects on its own later.
   */
  async start(): Promise<void> {
    this.stopping = false;
    const deadline = Date.now() + (this.options.startupTimeoutMs ?? 60_000);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.connect();
        return;
      } catch (error) {
        if (this.stopping || Date.now() >= deadline) throw error;
        const delayMs = Math.min(5_000, 250 * 2 ** attempt);
        this.options.logger.warn({ err: toAppError(error).message, retryInMs: delayMs }, 'RabbitMQ unreachable at start; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /**
   * Starts without requiring the broker to be up: keeps trying in the background. For ingress,
   * which must keep answering customs while RabbitMQ is down.
   */
  startInBackground(): void {
    this.stopping = false;
    this.connect().catch(() => this.scheduleReconnect());
  }

  /** Each consumer's queue and whether it is attached right now (readiness: consumers attached). */
  consumerStates(): { queue: string; attached: boolean }[] {
    return this.consumers.map((c) => ({ queue: c.queue, attached: c.tag !== undefined }));
  }

  /**
   * Messages ready in a queue (metrics), asked on a channel of its own: a missing queue closes the
   * channel it is asked on, and that must not be the publish channel. Undefined when unknown.
   */
  async queueDepth(queue: string): Promise<number | undefined> {
    const connection = this.connection;
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
   * Publishes to a named exchange and waits for the broker's confirm. With `mandatory`, a message
   * no queue is bound for comes back and the publish fails (TRANSPORT): the caller keeps it and
   * retries, instead of the broker dropping it.
   */
  async publish(exchange: string, routingKey: string, payload: object, options: PublishOptions): Promise<void> {
    const channel = this.publishChannel;
    if (!channel) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    const content = Buffer.from(JSON.stringify(payload), 'utf8');
    const timeoutMs = this.options.publishTimeoutMs ?? 10_000;
    const publishId = options.mandatory ? `${process.pid}-${(this.publishSeq += 1)}` : undefined;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('TRANSPORT', `publish not confirmed within ${timeoutMs} ms`)), timeoutMs);
      try {
        channel.publish(
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
            headers: {
              [Headers.sessionID]: options.sessionID,
              [Headers.schema]: 1,
              ...(publishId ? { [Headers.publishId]: publishId } : {}),
              ...options.headers,
            },
          },
          (error) => {
            clearTimeout(timer);
            // RabbitMQ sends basic.return before the confirm of an unroutable mandatory message.
            const returned = publishId !== undefined && this.returned.delete(publishId);
            if (error) reject(new AppError('TRANSPORT', 'RabbitMQ refused the message (nack)', { cause: error }));
            else if (returned) reject(new AppError('TRANSPORT', `no queue is bound to ${exchange} for "${routingKey}" yet: message not delivered`));
            else resolve();
          },
        );
      } catch (error) {
        clearTimeout(timer);
        reject(new AppError('TRANSPORT', 'RabbitMQ publish failed', { cause: error }));
      }
    });
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
    for (const consumer of this.consumers) {
      if (consumer.recovery) clearTimeout(consumer.recovery);
      consumer.recovery = undefined;
      await this.detach(consumer).catch(() => undefined);
    }
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
    const connection = await amqp.connect(withHeartbeat(this.options.url, this.options.heartbeatSeconds ?? 15), {
      clientProperties: { connection_name: this.options.connectionName },
      // Bounds the TCP connect and the AMQP handshake: a stalled broker fails the attempt instead of hanging it.
      timeout: this.options.connectTimeoutMs ?? 10_000,
      keepAlive: true,
      keepAliveDelay: 10_000,
      noDelay: true,
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
      publishChannel.on('return', (message: ConsumeMessage) => {
        const id = message.properties.headers?.[Headers.publishId];
        if (typeof id === 'string') this.returned.add(id);
      });
      publishChannel.on('close', () => {
        if (this.publishChannel === publishChannel) connection.close().catch(() => undefined);
      });
      this.connection = connection;
      this.publishChannel = publishChannel;
      this.declaredDelayQueues.clear();
      this.returned.clear();
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
    // The broker may close a consumer's channel alone (a delivery not acked within consumer_timeout,
    // an operator closing it) while the connection lives on: consume again on a new channel.
    channel.on('close', () => {
      if (consumer.channel !== channel) return; // detached on purpose, or the connection is being replaced
      consumer.channel = undefined;
      consumer.tag = undefined;
      // A lost connection closes its channels first; then the reconnect re-attaches everyone.
      setImmediate(() => {
        if (this.connection !== connection || this.stopping) return;
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
    if (this.stopping || consumer.paused || consumer.recovery) return;
    const delayMs = Math.min(this.options.reconnectMaxDelayMs ?? 10_000, CONSUMER_RECOVERY_DELAY_MS * 2 ** attempt);
    consumer.recovery = setTimeout(() => {
      consumer.recovery = undefined;
      const connection = this.connection;
      // Attached meanwhile (a reconnect re-attaches every consumer), or nothing to attach to yet.
      if (this.stopping || consumer.paused || consumer.tag || consumer.channel || !connection) return;
      this.redeclareTopology(connection)
        .then(() => this.attach(consumer))
        .then(
          () => this.options.logger.info({ queue: consumer.queue }, 'consumer back'),
          (error: unknown) => {
            this.options.logger.warn({ err: toAppError(error).message, queue: consumer.queue, attempt }, 'consumer could not come back yet; retrying');
            this.scheduleConsumerRecovery(consumer, attempt + 1);
          },
        );
    }, delayMs);
  }

  private async redeclareTopology(connection: ChannelModel): Promise<void> {
    if (!this.options.declareTopology) return;
    const setup = await connection.createChannel();
    setup.on('error', () => undefined); // a refusal arrives as the rejected declaration
    try {
      await this.options.declareTopology(setup);
    } finally {
      await setup.close().catch(() => undefined);
    }
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
        this.deliver(consumer, next).finally(() => {
          consumer.running -= 1;
          this.startHeld(consumer);
        }),
      );
    }
  }

  private async deliver(consumer: Consumer, held: HeldDelivery): Promise<void> {
    const { channel, message, payload } = held;
    const headers = message.properties.headers ?? {};
    const sessionID = (headers[Headers.sessionID] as string | undefined) ?? (message.properties.correlationId as string | undefined);
    const log = this.options.logger.child({ sessionID, queue: consumer.queue });
    if (!held.json) {
      log.error('message is not JSON; dead-lettering');
      await this.deadLetter(consumer.queue, message, 'message is not JSON').then(
        () => safely(() => channel.ack(message)),
        () => safely(() => channel.nack(message, false, false)),
      );
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
      if (isDependencyFailure(error)) await this.dependencyUnavailable(consumer.queue, channel, message, toAppError(error).message, log);
      else await this.handlerFailed(consumer.queue, channel, message, toAppError(error).message, log);
    }
  }

  /**
   * The handler could not reach a dependency (Postgres stalled or down, a timeout): not the
   * message's fault. It waits in a delay queue and comes back, however long the outage lasts;
   * neither the failure count nor the quorum delivery limit is spent on it.
   */
  private async dependencyUnavailable(queue: string, channel: Channel, message: ConsumeMessage, problem: string, log: Logger): Promise<void> {
    const outages = Number(message.properties.headers?.[Headers.outageRetries] ?? 0);
    const delayMs = backoffMs(outages, 1_000, this.options.outageRetryMaxDelayMs ?? 30_000);
    try {
      await this.republishDelayed(queue, message, delayMs, Headers.outageRetries);
      log.warn({ err: problem, outageRetries: outages + 1, delayMs }, 'a dependency is unavailable; retrying later (not counted against the message)');
      safely(() => channel.ack(message));
    } catch {
      // RabbitMQ itself is going: the message returns to the queue when the channel closes.
      await new Promise((resolve) => setTimeout(resolve, 500));
      safely(() => channel.nack(message, false, true));
    }
  }

  /**
   * An unexpected failure, usually a dependency that is down. The message waits in a delay queue
   * with a growing back-off, counted apart from the handler's own retries. It must not go straight
   * back to the queue: every return counts against the quorum delivery limit, so a Postgres restart
   * of a few seconds would dead-letter every message in flight (requests customs was promised).
   * A message that keeps failing is poison: dead-lettered with the error once the failures run out.
   */
  private async handlerFailed(queue: string, channel: Channel, message: ConsumeMessage, problem: string, log: Logger): Promise<void> {
    const failures = Number(message.properties.headers?.[Headers.failures] ?? 0) + 1;
    const maxFailures = this.options.maxHandlerFailures ?? DEFAULT_MAX_HANDLER_FAILURES;
    try {
      if (failures >= maxFailures) {
        log.error({ err: problem, failures }, 'handler failed too often; dead-lettering message');
        await this.deadLetter(queue, message, `handler failed ${failures} times: ${problem}`);
      } else {
        const delayMs = backoffMs(failures - 1, 1_000, 30_000);
        log.error({ err: problem, failures, delayMs }, 'handler failed; retrying later');
        await this.republishDelayed(queue, message, delayMs, Headers.failures);
      }
      safely(() => channel.ack(message));
    } catch {
      // The broker is unreachable as well: the message goes back to the queue (and counts there).
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

  /**
   * Declares a delay queue (delayQueueArguments) and the work queue's retry exchange that leads
   * into it and back, on a channel of its own: a classic delay queue left by an earlier version
   * fails the declaration (other arguments), which must not close the publishing channel. Such a
   * queue is used as it is (it returns messages through the default exchange), with a warning
   * saying what to do.
   */
  private async declareDelayQueue(delayQueue: string, workQueue: string, bucketMs: number): Promise<void> {
    const connection = this.connection;
    if (!connection) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    const retryExchange = retryExchangeFor(workQueue);
    const channel = await connection.createChannel();
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
    const bindChannel = await connection.createChannel();
    bindChannel.on('error', () => undefined);
    try {
      await bindChannel.bindQueue(delayQueue, retryExchange, delayRoutingKey(bucketMs));
    } finally {
      await bindChannel.close().catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  }

  /** Parks a message in the delay queue of `delayMs`, counting it in `counter` (retries, or failures). */
  private async republishDelayed(queue: string, message: ConsumeMessage, delayMs: number, counter: string = Headers.retries): Promise<void> {
    const channel = this.publishChannel;
    if (!channel) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    const bucket = delayBucketFor(delayMs);
    const delayQueue = delayQueueName(queue, bucket);
    if (!this.declaredDelayQueues.has(delayQueue)) {
      await this.declareDelayQueue(delayQueue, queue, bucket);
      this.declaredDelayQueues.add(delayQueue);
    }
    const headers = { ...(message.properties.headers ?? {}) };
    delete headers['x-delivery-count'];
    delete headers['x-death'];
    headers[counter] = Number(headers[counter] ?? 0) + 1;
    // A handler that got through resets the failure count: only failures in a row make poison.
    if (counter === Headers.retries) delete headers[Headers.failures];
    await new Promise<void>((resolve, reject) => {
      channel.publish(retryExchangeFor(queue), delayRoutingKey(bucket), message.content, { ...message.properties, headers, persistent: true }, (error) =>
        error ? reject(new AppError('TRANSPORT', 'delayed retry not confirmed', { cause: error })) : resolve(),
      );
    });
  }
}

/** Adds `heartbeat=<s>` to an AMQP URL unless it sets one already. */
function withHeartbeat(url: string, seconds: number): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
    return parsed.toString();
  } catch {
    return url; // amqplib reports the bad URL itself
  }
}

/** The routing key of a delay bucket on a retry exchange, e.g. "10000ms". */
function delayRoutingKey(bucketMs: number): string {
  return `${bucketMs}ms`;
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // The channel closed under us: the broker redelivers the message, and handlers are idempotent.
  }
}

export { workQueueArguments };
