import type { ConfirmChannel, Options } from 'amqplib';
import { AppError } from '@ceb179/errors';

/** How long a publish waits for the broker's confirm unless told otherwise. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

export interface ConfirmedPublish {
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: Options.Publish;
  /** What is published, for the error that names it: "message", "dead letter", "re-send request". */
  what: string;
  timeoutMs?: number;
  /**
   * Runs when the confirm arrives, even after the time limit ran out (so bookkeeping is undone).
   * RabbitMQ sends basic.return before the confirm of an unroutable mandatory message: this is
   * where a caller tells it apart and fails the publish with an error of its own.
   */
  afterConfirm?: () => AppError | undefined;
}

/**
 * The one way anything in ceb179 publishes: on a confirm channel, resolved only once the broker
 * has taken the message (confirm), rejected (TRANSPORT) on a nack, on a channel that throws, or
 * when no confirm arrives within the time limit, so a stalled broker never hangs a caller.
 */
export function publishConfirmed(channel: ConfirmChannel, publish: ConfirmedPublish): Promise<void> {
  const timeoutMs = publish.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AppError('TRANSPORT', `${publish.what} not confirmed by RabbitMQ within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      channel.publish(publish.exchange, publish.routingKey, publish.content, publish.properties, (error) => {
        clearTimeout(timer);
        const refusal = publish.afterConfirm?.();
        if (error) reject(new AppError('TRANSPORT', `RabbitMQ refused the ${publish.what} (nack)`, { cause: error }));
        else if (refusal) reject(refusal);
        else resolve();
      });
    } catch (error) {
      clearTimeout(timer);
      reject(new AppError('TRANSPORT', `RabbitMQ could not take the ${publish.what}`, { cause: error }));
    }
  });
}
