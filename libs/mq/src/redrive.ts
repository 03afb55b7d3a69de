import type { ConfirmChannel, GetMessage } from 'amqplib';
import { Queues } from '@ceb179/contracts';
import { publishConfirmed } from './confirmed-publish';
import { Headers } from './message';

export interface RedriveOptions {
  /** Only dead letters that came from this queue; default all. */
  fromQueue?: string;
  /** At most this many; default all. */
  limit?: number;
}

export interface RedriveResult {
  /** Moved back, by source queue. */
  moved: Record<string, number>;
  /** Left in the dead-letter queue: another source than asked for, or no known source. */
  left: number;
}

/** Headers a dead letter collected on its way that must not follow it back (counters start afresh). */
const DROPPED_HEADERS = [
  Headers.deadLetterReason,
  Headers.deadLetterQueue,
  Headers.failures,
  Headers.outageRetries,
  'x-death',
  'x-delivery-count',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-first-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-last-death-exchange',
];

/** The queue a dead letter came from: our own header, else RabbitMQ's x-death (delivery limit reached). */
export function sourceQueueOf(message: Pick<GetMessage, 'properties'>): string | undefined {
  const headers = message.properties.headers ?? {};
  const ours: unknown = headers[Headers.deadLetterQueue];
  if (typeof ours === 'string' && ours !== '') return ours;
  const deaths = headers['x-death'];
  if (Array.isArray(deaths)) {
    const queue = (deaths[0] as { queue?: unknown } | undefined)?.queue;
    if (typeof queue === 'string' && queue !== '') return queue;
  }
  return undefined;
}

/**
 * Moves dead letters back to the queue they came from (through the default exchange, confirmed
 * before the dead letter is acked: a crash in between leaves a copy in both, and every consumer
 * is idempotent by sessionID). For an operator, once the cause (a bug, a bad deployment) is fixed.
 */
export async function redriveDeadLetters(channel: ConfirmChannel, options: RedriveOptions = {}): Promise<RedriveResult> {
  const result: RedriveResult = { moved: {}, left: 0 };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const kept: GetMessage[] = [];
  let moved = 0;
  try {
    while (moved < limit) {
      const message = await channel.get(Queues.deadLetters, { noAck: false });
      if (message === false) break;
      const source = sourceQueueOf(message);
      if (source === undefined || (options.fromQueue !== undefined && source !== options.fromQueue)) {
        kept.push(message); // stays unacked (not fetched again) until the end
        continue;
      }
      const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) };
      for (const name of DROPPED_HEADERS) delete headers[name];
      headers[Headers.redriven] = Number(headers[Headers.redriven] ?? 0) + 1;
      await publishConfirmed(channel, {
        exchange: '',
        routingKey: source,
        content: message.content,
        properties: { ...message.properties, headers, persistent: true },
        what: `re-drive to ${source}`,
      });
      channel.ack(message);
      result.moved[source] = (result.moved[source] ?? 0) + 1;
      moved += 1;
    }
  } finally {
    for (const message of kept) channel.nack(message, false, true);
    result.left = kept.length;
  }
  return result;
}

/**
 * Messages waiting in the dead-letter queue (0 when it does not exist yet: nothing was ever
 * dead-lettered). A missing queue closes the channel it was asked on: pass one of its own.
 */
export async function deadLetterCount(channel: ConfirmChannel): Promise<number> {
  // A missing queue arrives as the rejected checkQueue; the channel's error event must not go unheard.
  if (channel.listenerCount('error') === 0) channel.on('error', () => undefined);
  try {
    const { messageCount } = await channel.checkQueue(Queues.deadLetters);
    return messageCount;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return 0;
    throw error;
  }
}
