import { AppError } from '@ceb179/errors';

/** Method names of the China E-Port client control (docs/protocol.md §4). */
export const ControlMethods = {
  signDataAsPem: 'cus-sec_SpcSignDataAsPEM',
  getCertNo: 'cus-sec_SpcGetCertNo',
  getSignCertAsPem: 'cus-sec_SpcGetSignCertAsPEM',
  getValidTimeFromCert: 'cus-sec_SpcGetValidTimeFromCert',
  getCardId: 'cus-sec_SpcGetCardID',
  verifyPin: 'cus-sec_SpcVerifyPIN',
} as const;

export type ControlMethod = (typeof ControlMethods)[keyof typeof ControlMethods];

export interface ControlReply {
  id: number;
  method: string;
  status: string;
  /** `_args.Result === true`; `_status` is "00" even on failure, so it says nothing about success. */
  result: boolean;
  data: unknown[];
  errors: string[];
}

export type ControlFrame = { kind: 'greeting'; raw: Record<string, unknown> } | { kind: 'reply'; reply: ControlReply };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request key is `args` without underscore, unlike every key of the reply (H). */
export function buildControlRequest(id: number, method: string, args: Record<string, string>): string {
  if (!Number.isSafeInteger(id) || id < 0)
    throw new AppError('INVALID_INPUT', `control request id must be a non-negative integer (got ${id})`);
  if (typeof method !== 'string' || method === '') throw new AppError('INVALID_INPUT', 'control request method is empty');
  return JSON.stringify({ _method: method, _id: id, args });
}

function toId(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  // Some control builds echo the id as text (L): match it anyway rather than let the caller time out.
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return Number(value);
  return null;
}

function toErrors(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value))
    return value.filter((e) => e !== null && e !== undefined && e !== '').map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  return [typeof value === 'string' ? value : JSON.stringify(value)];
}

/**
 * One Data item as text. The control sends strings, some builds numbers; anything else is shown as JSON
 * so a malformed reply reads as what it was rather than "[object Object]".
 */
export function controlText(value: unknown, fallback = ''): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function toData(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Reads one frame from the control. Tolerant where captures disagree (M): Error as a string or an
 * array, Data missing, the id as text. A frame without _args still becomes a failed reply, so the
 * waiting request fails at once instead of timing out.
 */
export function parseControlFrame(text: string): ControlFrame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new AppError('PROTOCOL', `control frame is not JSON: ${JSON.stringify(String(text).slice(0, 80))}`, { cause });
  }
  if (!isRecord(parsed)) throw new AppError('PROTOCOL', 'control frame is not a JSON object');

  const method = typeof parsed['_method'] === 'string' ? parsed['_method'] : '';
  const rawId = parsed['_id'];
  const args = parsed['_args'];
  if (method === 'open' || (rawId === 0 && args === undefined)) return { kind: 'greeting', raw: parsed };

  const id = toId(rawId);
  if (id === null) throw new AppError('PROTOCOL', `control frame has no usable _id (${JSON.stringify(rawId)})`);
  const status = controlText(parsed['_status']);
  if (!isRecord(args)) {
    return { kind: 'reply', reply: { id, method, status, result: false, data: [], errors: ['control reply has no _args'] } };
  }
  return {
    kind: 'reply',
    reply: {
      id,
      method,
      status,
      // Only a real boolean true is success: a PIN failure misread as success would sign nothing and retry.
      result: args['Result'] === true,
      data: toData(args['Data']),
      errors: toErrors(args['Error']),
    },
  };
}

/** For the E-Port simulator: the reply shape of docs/protocol.md §4. */
export function buildControlReply(id: number, method: string, result: boolean, data: unknown[], errors: string[] = []): string {
  return JSON.stringify({ _id: id, _method: method, _status: '00', _args: { Result: result, Data: data, Error: errors } });
}

export function buildControlGreeting(): string {
  return JSON.stringify({ _id: 0, _method: 'open', _status: '00' });
}
