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
