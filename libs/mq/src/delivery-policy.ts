import type { ConsumeMessage, Options } from 'amqplib';
import { delayRoutingKey, Exchanges, retryExchangeFor } from '@ceb179/contracts';
import { isDependencyFailure, toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { backoffMs, delayBucketFor } from './delay-buckets';
import { Headers, type MessageHandler } from './message';

/** Failures of one message in a row before it is taken for poison (DeliveryPolicyOptions.maxHandlerFailures). */
export const DEFAULT_MAX_HANDLER_FAILURES = 20;

/** The part of a consumer's channel a delivery is settled on. */
export interface DeliveryChannel {
  ack(message: ConsumeMessage): void;
  nack(message: ConsumeMessage, allUpTo?: boolean, requeue?: boolean): void;
}

/** Where copies of a delivery go: the dead-letter exchange, or a retry exchange into a delay queue. */
export interface RetryPublisher {
  /** Publishes and waits for the broker's confirm (publishConfirmed). */
  publish(exchange: string, routingKey: string, content: Buffer, properties: Options.Publish, what: string): Promise<void>;
  /** Makes sure the delay queue of `bucketMs` behind `workQueue`'s retry exchange exists. */
  ensureDelayQueue(workQueue: string, bucketMs: number): Promise<void>;
}

/** A delivery in a consumer's hands, its payload parsed once (`json` false when it is not JSON). */
export interface Delivery {
  channel: DeliveryChannel;
  message: ConsumeMessage;
  payload: unknown;
  json: boolean;
}

export interface DeliveryPolicyOptions {
  logger: Logger;
  /**
   * A handler that throws for another reason than an unreachable dependency (a bug, a message
   * the code cannot handle) has its message retried with a growing back-off (1 s doubling to
   * 30 s); after this many failures in a row the message is dead-lettered with the last error as
   * reason. Default 20, about 8 minutes. Dependency outages never count here.
   */
  maxHandlerFailures?: number;
  /**
   * A handler that throws because a dependency is unreachable or stalled (isDependencyFailure)
   * has its message retried with a back-off from 1 s doubling up to this (default 30 s), for as
   * long as the outage lasts: an outage is not poison.
   */
  outageRetryMaxDelayMs?: number;
  /** Pause before a message RabbitMQ could not take a copy of goes back to its queue (default 500 ms). */
  requeuePauseMs?: number;
}

/**
 * What becomes of a delivery: the handler runs, and its outcome or failure turns into an ack, a
 * delayed retry (through a delay queue, never straight back to the queue, whose quorum delivery
 * limit would count it), or a dead letter carrying the reason. A dependency outage is retried for
 * as long as it lasts and never makes a message poison; a handler that keeps failing for its own
 * reasons does. When RabbitMQ cannot take the copy either, the message goes back to its queue.
 */
export class DeliveryPolicy {
  constructor(
    private readonly publisher: RetryPublisher,
    private readonly options: DeliveryPolicyOptions,
  ) {}

  async deliver(queue: string, delivery: Delivery, handler: MessageHandler): Promise<void> {
    const { channel, message, payload } = delivery;
    const headers = message.properties.headers ?? {};
    const sessionID = (headers[Headers.sessionID] as string | undefined) ?? (message.properties.correlationId as string | undefined);
    const log = this.options.logger.child({ sessionID, queue });
    if (!delivery.json) {
      log.error('message is not JSON; dead-lettering');
      await this.deadLetter(queue, message, 'message is not JSON').then(
        () => safely(() => channel.ack(message)),
        () => safely(() => channel.nack(message, false, false)),
      );
      return;
    }
    try {
      const outcome = await handler({
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
        await this.deadLetter(queue, message, outcome.reason).then(
          () => safely(() => channel.ack(message)),
          // Could not attach the reason: let the queue's own dead-lettering take it, without one.
          () => safely(() => channel.nack(message, false, false)),
        );
      } else {
        await this.republishDelayed(queue, message, outcome.delayMs, Headers.retries);
        log.info({ reason: outcome.reason, delayMs: outcome.delayMs }, 'retry scheduled');
        safely(() => channel.ack(message));
      }
    } catch (error) {
      if (isDependencyFailure(error)) await this.dependencyUnavailable(queue, channel, message, toAppError(error).message, log);
      else await this.handlerFailed(queue, channel, message, toAppError(error).message, log);
    }
  }

  /**
   * The handler could not reach a dependency (Postgres stalled or down, a timeout): not the
   * message's fault. It waits in a delay queue and comes back, however long the outage lasts;
   * neither the failure count nor the quorum delivery limit is spent on it.
   */
  private async dependencyUnavailable(
    queue: string,
    channel: DeliveryChannel,
    message: ConsumeMessage,
    problem: string,
    log: Logger,
  ): Promise<void> {
    const outages = Number(message.properties.headers?.[Headers.outageRetries] ?? 0);
    const delayMs = backoffMs(outages, 1_000, this.options.outageRetryMaxDelayMs ?? 30_000);
    try {
      await this.republishDelayed(queue, message, delayMs, Headers.outageRetries);
      log.warn(
        { err: problem, outageRetries: outages + 1, delayMs },
        'a dependency is unavailable; retrying later (not counted against the message)',
      );
      safely(() => channel.ack(message));
    } catch {
      // RabbitMQ itself is going: the message returns to the queue when the channel closes.
      await this.requeue(channel, message);
    }
  }

  /**
   * An unexpected failure. The message waits in a delay queue with a growing back-off, counted
   * apart from the handler's own retries. It must not go straight back to the queue: every return
   * counts against the quorum delivery limit. A message that keeps failing is poison:
   * dead-lettered with the error once the failures run out.
   */
  private async handlerFailed(
    queue: string,
    channel: DeliveryChannel,
    message: ConsumeMessage,
    problem: string,
    log: Logger,
  ): Promise<void> {
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
      await this.requeue(channel, message);
    }
  }

  private async requeue(channel: DeliveryChannel, message: ConsumeMessage): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.options.requeuePauseMs ?? 500));
    safely(() => channel.nack(message, false, true));
  }

  /** Moves a message to the dead-letter exchange with why and from where, for whoever inspects it. */
  private async deadLetter(queue: string, message: ConsumeMessage, reason: string): Promise<void> {
    const headers = {
      ...(message.properties.headers ?? {}),
      [Headers.deadLetterReason]: reason.slice(0, 1000),
      [Headers.deadLetterQueue]: queue,
    };
    await this.publisher.publish(
      Exchanges.deadLetters,
      queue,
      message.content,
      { ...message.properties, headers, persistent: true },
      'dead letter',
    );
  }

  /** Parks a message in the delay queue of `delayMs`, counting it in `counter` (retries, failures or outages). */
  private async republishDelayed(queue: string, message: ConsumeMessage, delayMs: number, counter: string): Promise<void> {
    const bucket = delayBucketFor(delayMs);
    await this.publisher.ensureDelayQueue(queue, bucket);
    const headers = { ...(message.properties.headers ?? {}) };
    delete headers['x-delivery-count'];
    delete headers['x-death'];
    headers[counter] = Number(headers[counter] ?? 0) + 1;
    // A handler that got through resets the failure count: only failures in a row make poison.
    if (counter === Headers.retries) delete headers[Headers.failures];
    await this.publisher.publish(
      retryExchangeFor(queue),
      delayRoutingKey(bucket),
      message.content,
      { ...message.properties, headers, persistent: true },
      'delayed retry',
    );
  }
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // The channel closed under us: the broker redelivers the message, and handlers are idempotent.
  }
}
