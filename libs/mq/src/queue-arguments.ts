import { DELIVERY_LIMIT, Exchanges } from '@ceb179/contracts';

/** Durable quorum queue with a delivery limit, dead-lettering into ceb179.dead-letters. */
export function workQueueArguments(): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': DELIVERY_LIMIT,
    'x-dead-letter-exchange': Exchanges.deadLetters,
  };
}
