import * as amqp from 'amqplib';
import { Exchanges, Queues, type ResendRequestMessage } from '@ceb179/contracts';
import { AppError } from '@ceb179/errors';
import {
  declareResendPublishing,
  Headers,
  publishConfirmed,
  redriveDeadLetters,
  type RedriveOptions,
  type RedriveResult,
} from '@ceb179/mq';
import type { ResendPublisher } from './resend';

/** Bounded: an operator's command never hangs on a broker that does not answer. */
const CONNECT_TIMEOUT_MS = 10_000;
const CONFIRM_TIMEOUT_MS = 10_000;

async function withConfirmChannel<T>(url: string, connectionName: string, work: (channel: amqp.ConfirmChannel) => Promise<T>): Promise<T> {
  let connection: amqp.ChannelModel;
  try {
    connection = await amqp.connect(url, { timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: connectionName } });
  } catch (error) {
    throw new AppError('TRANSPORT', `RabbitMQ unreachable (${(error as Error).message})`, { cause: error });
  }
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    const result = await work(channel);
    // Closing the channel first waits for RabbitMQ to take every ack sent on it.
    await channel.close();
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Publishes operators' re-send requests to the reporter's exchange, one short-lived connection
 * each (they are rare; nothing to keep open or reconnect). Published mandatory: while no reporter
 * has ever declared its re-send queue the request comes back, and the operator is told so.
 */
export class AmqpResendPublisher implements ResendPublisher {
  constructor(
    private readonly url: string,
    private readonly connectionName: string,
  ) {}

  async publishResend(message: ResendRequestMessage): Promise<void> {
    await withConfirmChannel(this.url, this.connectionName, async (channel) => {
      await declareResendPublishing(channel);
      let returned = false;
      channel.on('return', () => (returned = true));
      await publishConfirmed(channel, {
        exchange: Exchanges.resendRequests,
        routingKey: '',
        content: Buffer.from(JSON.stringify(message), 'utf8'),
        properties: {
          persistent: true,
          mandatory: true,
          contentType: 'application/json',
          // Each request is its own message: an operator may ask twice (the reporter refuses the second).
          messageId: `resend:${message.sessionID}:${message.requestedAt}`,
          correlationId: message.sessionID,
          timestamp: Math.floor(Date.now() / 1000),
          headers: { [Headers.sessionID]: message.sessionID, [Headers.schema]: 1 },
        },
        what: 're-send request',
        timeoutMs: CONFIRM_TIMEOUT_MS,
        // A returned message arrives before its confirm.
        afterConfirm: () =>
          returned
            ? new AppError(
                'TRANSPORT',
                `no queue takes re-send requests yet: start the reporter once (it declares ${Queues.resendRequests})`,
              )
            : undefined,
      });
    });
  }
}

/** Moves dead letters back to their source queues (see @ceb179/mq redriveDeadLetters). */
export async function redrive(url: string, options: RedriveOptions = {}): Promise<RedriveResult> {
  return withConfirmChannel(url, 'ceb179-operator-redrive', async (channel) => {
    try {
      // Only what is dead now: a message still poison comes back at once and must not loop forever.
      const { messageCount } = await channel.checkQueue(Queues.deadLetters);
      const limit = Math.min(options.limit ?? Number.POSITIVE_INFINITY, messageCount);
      if (limit === 0) return { moved: {}, left: 0 };
      return await redriveDeadLetters(channel, { ...options, limit });
    } catch (error) {
      // The dead-letter queue is declared by the first service that runs: none yet, nothing dead.
      if ((error as { code?: number }).code === 404) return { moved: {}, left: 0 };
      if ((error as { code?: number }).code === 403) {
        throw new AppError(
          'CONFIG',
          `re-driving needs a RabbitMQ user that may read ${Queues.deadLetters} and publish through the default exchange (an administrator; no service or operator user may): ${(error as Error).message}`,
        );
      }
      throw error;
    }
  });
}
