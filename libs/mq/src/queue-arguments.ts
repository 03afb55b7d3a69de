import { DELIVERY_LIMIT, Exchanges, retryExchangeFor, RETRY_DUE_ROUTING_KEY } from '@ceb179/contracts';

/** Durable quorum queue with a delivery limit, dead-lettering into ceb179.dead-letters. */
export function workQueueArguments(): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': DELIVERY_LIMIT,
    'x-dead-letter-exchange': Exchanges.deadLetters,
  };
}

/**
 * A delay queue: messages wait `bucketMs`, then are dead-lettered back to `workQueue` through
 * the work queue's retry exchange (not the default exchange, which no service may write to:
 * RabbitMQ requires write permission on a queue's dead-letter exchange when it is declared).
 * A quorum queue with at-least-once dead-lettering (RabbitMQ 3.10+, which needs overflow
 * reject-publish): a classic queue dead-letters at most once, and every message whose wait
 * ended while RabbitMQ was stopping or starting was dropped - a delayed retry silently lost.
 */
export function delayQueueArguments(workQueue: string, bucketMs: number): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-message-ttl': bucketMs,
    'x-dead-letter-exchange': retryExchangeFor(workQueue),
    'x-dead-letter-routing-key': RETRY_DUE_ROUTING_KEY,
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  };
}
