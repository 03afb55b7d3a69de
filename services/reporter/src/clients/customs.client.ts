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
    if (response.status >= 500 || RETRYABLE_4XX.has(response.status)) {
      throw new CustomsHttpError('TRANSPORT', `customs answered HTTP ${response.status}`, response.status, latencyMs);
    }
    let body: { code?: unknown; message?: unknown };
    try {
      body = JSON.parse(text) as { code?: unknown; message?: unknown };
    } catch {
      throw this.notCustoms(response.status, 'a body that is not JSON', latencyMs);
    }
    if (body.code === undefined || body.code === null) throw this.notCustoms(response.status, 'no code', latencyMs);
    // code is a string in the documents; accept a number too.
    return { httpStatus: response.status, code: String(body.code), message: typeof body.message === 'string' ? body.message : '', latencyMs };
  }

  /**
   * A reply that is not customs JSON: on 2xx it is a glitch worth retrying; on 4xx the URL is
   * wrong or something in between refuses us, which retrying cannot fix.
   */
  private notCustoms(status: number, what: string, latencyMs: number): CustomsHttpError {
    if (status >= 400) {
      return new CustomsHttpError('CONFIG', `customs URL ${this.uploadUrl} answered HTTP ${status} with ${what}: check CEB179_CUSTOMS_URL and any proxy or firewall`, status, latencyMs);
    }
    return new CustomsHttpError('TRANSPORT', `customs answered HTTP ${status} with ${what}`, status, latencyMs);
  }
}

/** 408 Request Timeout and 429 Too Many Requests clear up on their own. */
const RETRYABLE_4XX = new Set([408, 429]);

/** An HTTP exchange that happened but is not a customs answer; keeps the status for the ledger. */
export class CustomsHttpError extends AppError {
  constructor(code: 'TRANSPORT' | 'CONFIG', message: string, readonly httpStatus: number, readonly latencyMs: number) {
    super(code, message);
  }
}
