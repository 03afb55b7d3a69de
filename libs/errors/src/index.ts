/**
 * The one error type of ceb179. Every failure that crosses a module boundary is an AppError
 * with a stable `code`, so callers branch on codes, never on message text, and handlers can
 * tell a retryable fault from a permanent one.
 */
export type ErrorCode =
  | 'INVALID_INPUT' // a caller sent something malformed (bad callback, bad message payload)
  | 'DATA_FAULT' // the platform's source data breaks a protocol rule or is missing
  | 'PROTOCOL' // a peer (customs, control) answered outside the protocol
  | 'TRANSPORT' // network, timeout, 5xx: worth retrying
  | 'CONFIG' // a setting is missing or wrong; a person must act
  | 'CARD_PIN' // the card refused or may have refused the PIN: never retry
  | 'CARD_FAULT' // reader or control fault (50070, 50200, unreachable)
  | 'SIGNATURE_INVALID' // a signature did not verify against the card certificate
  | 'NOT_FOUND'
  | 'INTERNAL';

export interface FieldFault {
  field: string;
  problem: string;
}

export interface AppErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Field-by-field detail for validation and data faults; never holds secrets. */
  fields?: FieldFault[];
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly fields: FieldFault[];

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = options.retryable ?? code === 'TRANSPORT';
    this.fields = options.fields ?? [];
  }

  /** A one-line reason fit for the ledger and for operators. */
  get reason(): string {
    if (this.fields.length === 0) return this.message;
    return `${this.message}: ${this.fields.map((f) => `${f.field} ${f.problem}`).join('; ')}`;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(error: unknown, fallback: ErrorCode = 'INTERNAL'): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AppError(fallback, message, { cause: error });
}

/** Socket-level errno codes that mean "the peer could not be reached or went away". */
const UNREACHABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * Postgres SQLSTATEs that say the server is unavailable or busy, not that the statement is wrong:
 * class 08 (connection exception), 57P01-57P03 (shutting down, starting up), 53300 (too many
 * connections), 40001/40P01 (serialization failure, deadlock). Not 57014 (statement timeout): a
 * server that answers is up, and a statement that always runs too long must end as poison.
 */
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300|40001|40P01)$/;

/** What pg, pg-pool, ioredis and amqplib say when the server stalls or is gone (they carry no code). */
const UNREACHABLE_MESSAGES =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|query read timeout|not queryable|connection is closed|command timed out|stream isn't writeable|reached the max retries per request|not connected|channel closed|connection closed/i;

/**
 * True when `error` says a dependency (Postgres, Redis, RabbitMQ, a peer over the network) could
 * not be reached or did not answer in time — an outage, which retrying later cures — as opposed
 * to a message or a program that is wrong. AppError('TRANSPORT') counts; causes are followed.
 */
export function isDependencyFailure(error: unknown, depth = 0): boolean {
  if (error === null || error === undefined || depth > 5) return false;
  if (error instanceof AppError) {
    if (error.code === 'TRANSPORT') return true;
    return isDependencyFailure(error.cause, depth + 1);
  }
  if (typeof error !== 'object') return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (UNREACHABLE_ERRNOS.has(code) || TRANSIENT_SQLSTATE.test(code))) return true;
  if (typeof message === 'string' && UNREACHABLE_MESSAGES.test(message)) return true;
  // AggregateError (a dual-stack connect that failed on every address)
  if (Array.isArray(errors) && errors.some((e) => isDependencyFailure(e, depth + 1))) return true;
  return isDependencyFailure(cause, depth + 1);
}
