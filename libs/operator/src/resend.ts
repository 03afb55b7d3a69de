import { SCHEMA_VERSION, type ResendRequestMessage } from '@ceb179/contracts';
import type { Pool } from '@ceb179/db';
import { AppError } from '@ceb179/errors';
import { findTimeline, type RequestTimeline } from './ledger';

/** Codes with which customs said it holds the document (accepted, or already stored). */
export const HELD_BY_CUSTOMS_CODES = ['10000', '20006'];

/** Why a request may not be re-sent, or null when it may. The reporter checks the same again, atomically. */
export function resendRefusal(timeline: RequestTimeline): string | null {
  if (timeline.status === 'uploaded')
    return `customs already holds ${timeline.sessionID} (uploaded, code ${timeline.customsCode ?? '?'}): a re-send would be a second upload`;
  const held = timeline.attempts.find((a) => a.customsCode !== null && HELD_BY_CUSTOMS_CODES.includes(a.customsCode));
  if (held) return `customs already holds ${timeline.sessionID} (an attempt at ${held.attemptedAt} was answered ${held.customsCode})`;
  if (timeline.status === 'received' || timeline.status === 'assembled')
    return `${timeline.sessionID} is ${timeline.status}: it has not been signed yet, there is nothing to upload`;
  if (timeline.status === 'data_fault')
    return `${timeline.sessionID} is a data_fault: no document was built (${timeline.reason ?? 'see reason'}); fix the data, customs will call again`;
  return null;
}

/** Publishes one message; the CLI and the console each bring their own RabbitMQ connection. */
export interface ResendPublisher {
  publishResend(message: ResendRequestMessage): Promise<void>;
}

export interface ResendAccepted {
  sessionID: string;
  /** Upload attempts the ledger held when the re-send was asked for: the reporter's answer is the next one. */
  attemptsBefore: number;
}

/**
 * Asks the reporter to upload the stored document of one request again (the same head, lists,
 * serviceTime, certNo and signValue). Refused with AppError NOT_FOUND / INVALID_INPUT when the
 * ledger does not have it or customs already holds it.
 */
export async function requestResend(
  pool: Pool,
  publisher: ResendPublisher,
  sessionID: string,
  requestedBy: string,
): Promise<ResendAccepted> {
  const timeline = await findTimeline(pool, sessionID);
  if (!timeline) throw new AppError('NOT_FOUND', `no request with sessionID ${sessionID} in the ledger`);
  const refusal = resendRefusal(timeline);
  if (refusal) throw new AppError('INVALID_INPUT', `re-send refused: ${refusal}`);
  await publisher.publishResend({ v: SCHEMA_VERSION, sessionID, requestedBy, requestedAt: new Date().toISOString() });
  return { sessionID, attemptsBefore: timeline.attempts.length };
}

export interface ResendOutcome {
  timeline: RequestTimeline;
  /** False when no new attempt appeared in time (the reporter may be down or refused it: see its log). */
  answered: boolean;
}

/** Waits until the reporter recorded a new upload attempt for the request (or the time is up). */
export async function awaitResendOutcome(pool: Pool, accepted: ResendAccepted, timeoutMs: number): Promise<ResendOutcome> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const timeline = await findTimeline(pool, accepted.sessionID);
    if (!timeline) throw new AppError('NOT_FOUND', `request ${accepted.sessionID} vanished from the ledger`);
    const inFlight = timeline.status === 'signed';
    if (timeline.attempts.length > accepted.attemptsBefore && !inFlight) return { timeline, answered: true };
    if (Date.now() >= until) return { timeline, answered: false };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
