import { DELIVERY_LIMIT, Exchanges } from '@ceb179/contracts';

/** Durable quorum queue with a delivery limit, dead-lettering into ceb179.dead-letters. */
export function workQueueArguments(): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': DELIVERY_LIMIT,
    'x-dead-letter-exchange': Exchanges.deadLetters,
  };
}

/**
 * A delay queue: messages wait `bucketMs`, then are dead-lettered back to `workQueue`. A quorum
 * queue with at-least-once dead-lettering (RabbitMQ 3.10+, which needs overflow reject-publish):
 * a classic queue dead-letters at most once, and every message whose wait ended while RabbitMQ
 * was stopping or starting was dropped - a delayed retry silently lost.
 */
export function delayQueueArguments(workQueue: string, bucketMs: number): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-message-ttl': bucketMs,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': workQueue,
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  };
}
