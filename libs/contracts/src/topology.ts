/**
 * Every exchange and queue of ceb179 in one place, so producers and consumers declare exactly
 * the same topology (RabbitMQ refuses a redeclaration with different arguments).
 */
export const Exchanges = {
  /** Direct exchange for sign jobs, routed by ebpCode to the queue of the card(s) serving it. */
  signJobs: 'ceb179.sign-jobs',
  /** Alternate exchange: sign jobs for an ebpCode no card queue is bound to land in signJobsAny. */
  signJobsUnrouted: 'ceb179.sign-jobs.unrouted',
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
  deadLetters: 'ceb179.dead-letters',
} as const;

/** The queue a signer consumes for one ebpCode; jobs are published with the ebpCode as routing key. */
export function signJobQueueFor(ebpCode: string): string {
  return `${Exchanges.signJobs}.ebp.${ebpCode}`;
}

/** Attempts before a message that keeps crashing its consumer is dead-lettered. */
export const DELIVERY_LIMIT = 10;

/** Customs expects the upload within about two minutes of its call (protocol.md §0, M). */
export const DEADLINE_MS = 120_000;
