import http from 'node:http';
import { CUSTOMS_USER_AGENT } from '@ceb179/customs-sim';

export const FORM = 'application/x-www-form-urlencoded; charset=UTF-8';

export interface RawReply {
  status: number;
  contentType: string | undefined;
  /** The reply body exactly as it came over the wire. */
  text: string;
}

/**
 * One POST with full control over the bytes and headers (fetch would normalise both), on a
 * fresh connection, as customs' client sends it unless told otherwise.
 */
export function post(
  port: number,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': FORM },
  path = '/platDataOpen',
): Promise<RawReply> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'user-agent': CUSTOMS_USER_AGENT, ...headers, 'content-length': String(bytes.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'],
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(bytes);
  });
}

/** The form body customs sends: one field, openReq, holding `openReq` (an object is JSON-encoded first). */
export function formBody(openReq: unknown): string {
  const text = typeof openReq === 'string' ? openReq : JSON.stringify(openReq);
  return new URLSearchParams({ openReq: text }).toString();
}
