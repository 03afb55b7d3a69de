import { AppError, type FieldFault } from '@ceb179/errors';

/**
 * Message payloads between services. Every message carries the sessionID (the correlation id),
 * the request's deadline and a schema version; consumers validate at the entry point with the
 * parse functions below and dead-letter what does not parse.
 */
export const SCHEMA_VERSION = 1;

export interface CallbackMessage {
  v: typeof SCHEMA_VERSION;
  sessionID: string;
  orderNo: string;
  /** serviceTime as customs sent it, decimal text, or null when absent. */
  customsServiceTime: string | null;
  receivedAt: string; // ISO
  deadline: string; // ISO
}

export interface SignJobMessage {
  v: typeof SCHEMA_VERSION;
  sessionID: string;
  ebpCode: string;
  signString: string;
  deadline: string;
  /** HMAC-SHA256 of every other field (sign-job-mac.ts); the signer refuses a job without a valid one. */
  mac: string;
}

export interface SignatureMessage {
  v: typeof SCHEMA_VERSION;
  sessionID: string;
  ebpCode: string;
  certNo: string;
  signValue: string;
  algorithm: 'RSA-SHA1' | 'SM2-SM3';
  signedAt: string;
  signerId: string;
  deadline: string;
}

type Shape = Record<string, 'string' | 'number'>;

function parseShape<T>(name: string, payload: unknown, shape: Shape): T {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new AppError('INVALID_INPUT', `${name}: payload is not a JSON object`);
  }
  const record = payload as Record<string, unknown>;
  const fields: FieldFault[] = [];
  if (record.v !== SCHEMA_VERSION) fields.push({ field: 'v', problem: `must be ${SCHEMA_VERSION}` });
  for (const [key, type] of Object.entries(shape)) {
    const value = record[key];
    if (typeof value !== type || (type === 'string' && value === '')) {
      fields.push({ field: key, problem: `must be a non-empty ${type}` });
    }
  }
  if (fields.length > 0) throw new AppError('INVALID_INPUT', `${name}: invalid payload`, { fields });
  return record as T;
}

export function parseCallbackMessage(payload: unknown): CallbackMessage {
  return parseShape('callback message', payload, {
    sessionID: 'string',
    orderNo: 'string',
    receivedAt: 'string',
    deadline: 'string',
  });
}

export function parseSignJobMessage(payload: unknown): SignJobMessage {
  return parseShape('sign job', payload, {
    sessionID: 'string',
    ebpCode: 'string',
    signString: 'string',
    deadline: 'string',
  });
}

export function parseSignatureMessage(payload: unknown): SignatureMessage {
  const message = parseShape<SignatureMessage>('signature message', payload, {
    sessionID: 'string',
    ebpCode: 'string',
    certNo: 'string',
    signValue: 'string',
    algorithm: 'string',
    signedAt: 'string',
    signerId: 'string',
    deadline: 'string',
  });
  if (message.algorithm !== 'RSA-SHA1' && message.algorithm !== 'SM2-SM3') {
    throw new AppError('INVALID_INPUT', 'signature message: invalid payload', {
      fields: [{ field: 'algorithm', problem: 'must be RSA-SHA1 or SM2-SM3' }],
    });
  }
  return message;
}

/** signer -> cloud: what every signer is doing, every few seconds. Carries no secret. */
export interface SignerHeartbeatMessage {
  v: typeof SCHEMA_VERSION;
  signerId: string;
  state: 'starting' | 'ready' | 'paused-for-pin' | 'reader-fault' | 'signing-fault' | 'expired';
  reason: string;
  cardId: string | null;
  certNo: string | null;
  algorithm: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  lastSuccessAt: string | null;
  ebpCodes: string[];
  signatures: number;
  sentAt: string;
  /**
   * The card's signing certificate (base64 DER, public data) once the self-test has read it: the
   * reporter verifies every signature against the certificate known for its ebpCode.
   */
  certificate?: string | null;
}

export function parseSignerHeartbeatMessage(payload: unknown): SignerHeartbeatMessage {
  const message = parseShape<SignerHeartbeatMessage>('signer heartbeat', payload, {
    signerId: 'string',
    state: 'string',
    sentAt: 'string',
  });
  if (!Array.isArray(message.ebpCodes)) {
    throw new AppError('INVALID_INPUT', 'signer heartbeat: invalid payload', {
      fields: [{ field: 'ebpCodes', problem: 'must be an array' }],
    });
  }
  return message;
}

/**
 * operator -> reporter: upload the document the ledger holds for one request again (the same
 * head, lists, serviceTime, certNo and signValue: never a new document). The reporter refuses
 * one customs already holds.
 */
export interface ResendRequestMessage {
  v: typeof SCHEMA_VERSION;
  sessionID: string;
  /** Who asked (the CLI's user, the console's), for the ledger's reason and the logs. */
  requestedBy: string;
  requestedAt: string;
}

export function parseResendRequestMessage(payload: unknown): ResendRequestMessage {
  return parseShape('resend request', payload, { sessionID: 'string', requestedBy: 'string', requestedAt: 'string' });
}
