/**
 * Every exchange and queue of ceb179 in one place, so producers and consumers declare exactly
 * the same topology (RabbitMQ refuses a redeclaration with different arguments).
 *
 * Every flow has a named exchange and no service publishes to the default exchange: RabbitMQ
 * checks a publish against the exchange only, so write access to the default exchange would let
 * any user put a message on any queue (deploy/rabbitmq/permissions.json grants each user its own
 * exchanges; docs/security.md has the table). Exchange names never equal a queue name (except
 * the dead letters), so one permission pattern never grants an exchange and a queue at once.
 */
export const Exchanges = {
  /** ingress -> assembler (fanout to the callbacks queue). */
  callbacks: 'ceb179.x.callbacks',
  /** Direct exchange for sign jobs, routed by ebpCode to the queue of the card(s) serving it. */
  signJobs: 'ceb179.sign-jobs',
  /** Alternate exchange: sign jobs for an ebpCode no card queue is bound to land in signJobsAny. */
  signJobsUnrouted: 'ceb179.sign-jobs.unrouted',
  /** signer -> reporter (fanout to the signatures queue). */
  signatures: 'ceb179.x.signatures',
  /** operator (CLI, console) -> reporter: re-send requests (fanout to the re-send queue). */
  resendRequests: 'ceb179.x.resend-requests',
  /** signer -> reporter: heartbeats (fanout to the heartbeat queue). */
  signerHeartbeats: 'ceb179.x.signer-heartbeats',
  /** Where rejected (poison) messages go. */
  deadLetters: 'ceb179.dead-letters',
} as const;

export const Queues = {
  /** ingress -> assembler: one message per accepted customs callback. */
  callbacks: 'ceb179.callbacks',
  /** sign jobs of ebpCodes that no dedicated card queue serves; consumed by signers serving "all". */
  signJobsAny: 'ceb179.sign-jobs.any',
  /** signer -> reporter: a verified signature for one sessionID. */
  signatures: 'ceb179.signatures',
  /** signer -> cloud side: heartbeats of every signer agent. */
  signerHeartbeats: 'ceb179.signer-heartbeats',
  /** operator (CLI, console) -> reporter: upload the stored, signed document of one request again. */
  resendRequests: 'ceb179.resend-requests',
  deadLetters: 'ceb179.dead-letters',
} as const;

/** The queue a signer consumes for one ebpCode; jobs are published with the ebpCode as routing key. */
export function signJobQueueFor(ebpCode: string): string {
  return `${Exchanges.signJobs}.ebp.${ebpCode}`;
}

/**
 * The exchange through which a consumer of `queue` parks a message for a delayed retry (routing
 * key: the delay bucket) and through which the delay queue hands it back (routing key
 * RETRY_DUE_ROUTING_KEY). Only the consumer of `queue` may write to it: it leads to that queue only.
 */
export function retryExchangeFor(queue: string): string {
  return `${queue}.retry`;
}

export const RETRY_DUE_ROUTING_KEY = 'due';

/** The delay queue of one delay bucket behind `queue` (libs/mq delay-buckets has the buckets). */
export function delayQueueName(queue: string, bucketMs: number): string {
  return `${queue}.delay.${bucketMs}ms`;
}

/** The routing key of a delay bucket on a retry exchange, e.g. "10000ms". */
export function delayRoutingKey(bucketMs: number): string {
  return `${bucketMs}ms`;
}

/** Attempts before a message that keeps crashing its consumer is dead-lettered. */
export const DELIVERY_LIMIT = 10;

/** Customs expects the upload within about two minutes of its call (docs/protocol.md §0, M). */
export const DEADLINE_MS = 120_000;
