import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { AppError } from '@ceb179/errors';
import type { CallbackResult } from '../domain/types';

export interface CallbackRequest {
  /** Full URL, path included (usually .../platDataOpen). */
  ingressUrl: string;
  orderNo: string;
  sessionID?: string;
  serviceTime?: number;
  /** Real captures carry a string, the document says a number (docs/protocol.md §1): default string. */
  serviceTimeAs?: 'string' | 'number';
  userAgent?: string;
  timeoutMs?: number;
}

export const CUSTOMS_USER_AGENT = 'Apache-HttpClient/4.5.3 (Java/1.8.0_60)';
const DEFAULT_TIMEOUT_MS = 30_000;

/** Customs' sessionID format is not public (L): 32 lowercase hex digits, unique per call. */
export function newSessionID(): string {
  return randomUUID().replace(/-/g, '');
}

/** The openReq JSON text, keys in the order customs sends them. */
export function openReqText(orderNo: string, sessionID: string, serviceTime: number, as: 'string' | 'number'): string {
  return JSON.stringify({ orderNo, sessionID, serviceTime: as === 'string' ? String(serviceTime) : serviceTime });
}

/**
 * Customs calling the platform: one form-encoded POST with the `openReq` field, as customs'
 * Java client sends it. Rejects only on transport failure; any HTTP answer is a result.
 */
export async function fireCallback(request: CallbackRequest): Promise<CallbackResult> {
  const sessionID = request.sessionID ?? newSessionID();
  const serviceTimeSentAs = request.serviceTimeAs ?? 'string';
  const openReq = openReqText(request.orderNo, sessionID, request.serviceTime ?? Date.now(), serviceTimeSentAs);
  const body = Buffer.from(new URLSearchParams({ openReq }).toString(), 'utf8');

  let url: URL;
  try {
    url = new URL(request.ingressUrl);
  } catch {
    throw new AppError('INVALID_INPUT', `ingressUrl is not a URL: ${request.ingressUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('INVALID_INPUT', `ingressUrl must be http or https: ${request.ingressUrl}`);
  }

  const started = process.hrtime.bigint();
  const reply = await post(url, body, request.userAgent ?? CUSTOMS_USER_AGENT, request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    orderNo: request.orderNo,
    sessionID,
    serviceTimeSentAs,
    httpStatus: reply.status,
    contentType: reply.contentType,
    body: parseBody(reply.text),
    latencyMs,
  };
}

function post(
  url: URL,
  body: Buffer,
  userAgent: string,
  timeoutMs: number,
): Promise<{ status: number; contentType: string; text: string }> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8',
          'Content-Length': body.length,
          'User-Agent': userAgent,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(new AppError('TRANSPORT', `callback reply broke off: ${error.message}`, { cause: error })));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new AppError('TRANSPORT', `callback to ${url.href} failed: ${error.message}`, { cause: error })));
    req.end(body);
  });
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
