import { AppError } from '@ceb179/errors';

export interface OpenReq {
  orderNo: string;
  sessionID: string;
  /** serviceTime as customs sent it, kept as decimal text; customs sends a number or a string (M). */
  serviceTime: string | null;
}

// Control characters never occur in a real orderNo or sessionID; they mark a forged or broken call.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/**
 * Not printable text: C1 controls, format characters (bidi overrides and isolates, zero-width
 * characters, BOM), private-use characters and line/paragraph separators. A bidi override makes
 * an id display as another in a log or the ledger, and a zero-width character makes two ids look
 * the same.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}]/u;
/**
 * An unpaired UTF-16 surrogate: not text at all. Postgres stores it as U+FFFD, so two different
 * sessionIDs would become one ledger key.
 */
const LONE_SURROGATE = /\p{Cs}/u;
const MAX_ORDER_NO = 60; // docs/protocol.md §2: orderNo is at most 60 characters
const MAX_SESSION_ID = 128; // not in the spec; far above customs' ids, keeps garbage out of the ledger

function invalid(problem: string): AppError {
  return new AppError('INVALID_INPUT', problem);
}

function requireText(record: Record<string, unknown>, key: string, max: number): string {
  const value = record[key];
  if (value === undefined || value === null) throw invalid(`openReq.${key} is missing`);
  if (typeof value !== 'string') throw invalid(`openReq.${key} must be a string`);
  if (value.trim() === '') throw invalid(`openReq.${key} is empty`);
  if (value.length > max) throw invalid(`openReq.${key} is longer than ${max} characters`);
  if (CONTROL_CHARS.test(value)) throw invalid(`openReq.${key} contains control characters`);
  if (LONE_SURROGATE.test(value)) throw invalid(`openReq.${key} is not well-formed Unicode (an unpaired surrogate)`);
  if (UNPRINTABLE.test(value))
    throw invalid(`openReq.${key} contains a character that is not printable text (control, format or bidi, private use)`);
  if (value.includes('\uFFFD')) throw invalid(`openReq.${key} is not valid UTF-8`);
  return value;
}

function readServiceTime(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return value;
  throw invalid('openReq.serviceTime must be epoch milliseconds (a number or a string of digits)');
}

/**
 * Validates the openReq JSON text of a customs callback (docs/protocol.md §1). Throws
 * AppError('INVALID_INPUT') whose message names the problem; that message goes back to the
 * caller in a code-20000 reply, so it never echoes the input.
 */
export function parseOpenReq(text: string | undefined): OpenReq {
  if (text === undefined) throw invalid('the form field openReq is missing');
  if (text.trim() === '') throw invalid('the form field openReq is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('openReq is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('openReq must be a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const orderNo = requireText(record, 'orderNo', MAX_ORDER_NO);
  const sessionID = requireText(record, 'sessionID', MAX_SESSION_ID);
  // The sign string carries the sessionID raw between quotes (docs/protocol.md §3): one holding '"'
  // could never be signed or uploaded, so answering 10000 to it would be a promise not kept.
  if (sessionID.includes('"')) throw invalid(`openReq.sessionID contains '"'`);
  return { orderNo, sessionID, serviceTime: readServiceTime(record.serviceTime) };
}
