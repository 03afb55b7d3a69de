import { AppError } from '@ceb179/errors';

export interface CustomsReply {
  httpStatus: number;
  code: string;
  message: string;
  latencyMs: number;
}

/**
 * POSTs the form body to customs' realTimeDataUpload. Transport faults (timeouts, refused
 * connections, HTTP 5xx, a reply that is not customs JSON) throw AppError('TRANSPORT'), the
 * only retryable kind; any customs code comes back as a reply for the caller to interpret.
 */
export class CustomsClient {
  constructor(
    private readonly uploadUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async upload(formBody: string): Promise<CustomsReply> {
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(this.uploadUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: formBody,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new AppError('TRANSPORT', `customs unreachable (${cause})`, { cause: error });
    }
    const text = await response.text().catch(() => '');
    const latencyMs = Date.now() - started;
    if (response.status >= 500) throw new AppError('TRANSPORT', `customs answered HTTP ${response.status}`);
    let body: { code?: unknown; message?: unknown };
    try {
      body = JSON.parse(text) as { code?: unknown; message?: unknown };
    } catch {
      throw new AppError('TRANSPORT', `customs answered HTTP ${response.status} with a body that is not JSON`);
    }
    if (body.code === undefined || body.code === null) {
      throw new AppError('TRANSPORT', `customs answered HTTP ${response.status} without a code`);
    }
    // code is a string in the documents; accept a number too.
    return { httpStatus: response.status, code: String(body.code), message: typeof body.message === 'string' ? body.message : '', latencyMs };
  }
}
