import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { AppError, toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { publishConfirmed } from './confirmed-publish';
import { Headers } from './message';

export interface ConnectionOptions {
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
  /** Seconds between AMQP heartbeats (a dead or stalled broker is noticed within about two); default 15. */
  heartbeatSeconds?: number;
  /** Longest wait for the TCP connection and AMQP handshake; default 10 s. */
  connectTimeoutMs?: number;
}

/** What the owner of a connection does when it comes up (before it counts as up) and when it is lost. */
export interface ConnectionHooks {
  /** Runs on every (re)connect, e.g. to re-attach consumers; a throw fails that connection attempt. */
  connected(connection: ChannelModel): Promise<void>;
  lost(): void;
}

/**
 * One AMQP connection kept up: dialled with heartbeats and a handshake time limit, the topology
 * declared on every (re)connect, one confirm channel for publishing (mandatory messages that come
 * back are told apart by a publish id), and reconnection with back-off after any loss.
 */
export class BrokerConnection {
  private connection: ChannelModel | undefined;
  private publishChannel: ConfirmChannel | undefined;
  private stopping = false;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private readonly listeners = new Set<(connected: boolean) => void>();
  /** Ids of mandatory messages the broker returned as unroutable, until their confirm arrives. */
  private readonly returned = new Set<string>();
  private publishSeq = 0;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {}

  /** The live connection, or undefined while there is none. */
  get current(): ChannelModel | undefined {
    return this.connection;
  }

  get connected(): boolean {
    return this.publishChannel !== undefined;
  }

  get isStopping(): boolean {
    return this.stopping;
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

  /** Starts without requiring the broker to be up: keeps trying in the background. */
  startInBackground(): void {
    this.stopping = false;
    this.connect().catch(() => this.scheduleReconnect());
  }

  /** No more reconnecting; the connection stays open until close() (consumers drain meanwhile). */
  stopReconnecting(): void {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  async close(): Promise<void> {
    this.stopReconnecting();
    const connection = this.connection;
    this.connection = undefined;
    this.publishChannel = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }

  /** A channel of its own on the live connection (TRANSPORT when there is none). */
  async openChannel(): Promise<Channel> {
    const connection = this.connection;
    if (!connection) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    return connection.createChannel();
  }

  /**
   * Publishes on the confirm channel and waits for the broker's confirm (publishConfirmed). With
   * `mandatory`, a message no queue is bound for comes back and the publish fails (TRANSPORT).
   */
  async publish(exchange: string, routingKey: string, content: Buffer, properties: Options.Publish, what: string): Promise<void> {
    const channel = this.publishChannel;
    if (!channel) throw new AppError('TRANSPORT', 'RabbitMQ is not connected');
    const publishId = properties.mandatory === true ? `${process.pid}-${(this.publishSeq += 1)}` : undefined;
    // amqplib types headers as `any`: name the shape we put there.
    const given = properties.headers as Record<string, unknown> | undefined;
    const headers = publishId === undefined ? given : { ...given, [Headers.publishId]: publishId };
    await publishConfirmed(channel, {
      exchange,
      routingKey,
      content,
      properties: { ...properties, headers },
      what,
      timeoutMs: this.options.publishTimeoutMs,
      afterConfirm: () =>
        publishId !== undefined && this.returned.delete(publishId)
          ? new AppError('TRANSPORT', `no queue is bound to ${exchange} for "${routingKey}" yet: message not delivered`)
          : undefined,
    });
  }

  /** Declares the topology again on a channel of its own (a refusal arrives as the rejection). */
  async redeclareTopology(connection: ChannelModel): Promise<void> {
    if (!this.options.declareTopology) return;
    const setup = await connection.createChannel();
    setup.on('error', () => undefined);
    try {
      await this.options.declareTopology(setup);
    } finally {
      await setup.close().catch(() => undefined);
    }
  }

  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.dial().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async dial(): Promise<void> {
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
        const id: unknown = message.properties.headers?.[Headers.publishId];
        if (typeof id === 'string') this.returned.add(id);
      });
      publishChannel.on('close', () => {
        if (this.publishChannel === publishChannel) connection.close().catch(() => undefined);
      });
      this.connection = connection;
      this.publishChannel = publishChannel;
      this.returned.clear();
      await this.hooks.connected(connection);
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
    this.hooks.lost();
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
