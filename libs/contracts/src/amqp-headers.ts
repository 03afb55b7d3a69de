/** The AMQP headers ceb179 sets on its messages; dead letters and the operator tools read them back. */
export const AmqpHeaders = {
  /** Times a message was re-published through a delay queue at its handler's request. */
  retries: 'x-ceb179-retries',
  sessionID: 'x-ceb179-session-id',
  schema: 'x-ceb179-schema',
  deadLetterReason: 'x-ceb179-dead-letter-reason',
  deadLetterQueue: 'x-ceb179-dead-letter-queue',
  /** Handler failures in a row (thrown errors), apart from the retries the handler asked for. */
  failures: 'x-ceb179-failures',
  /** Retries because a dependency was unavailable; never make a message poison. */
  outageRetries: 'x-ceb179-outage-retries',
  /** Tells a returned (unroutable) mandatory message from the others on the publishing channel. */
  publishId: 'x-ceb179-publish-id',
  /** Times an operator moved the message back from the dead letters (npm run redrive). */
  redriven: 'x-ceb179-redriven',
} as const;
