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
      const code = failureCode(error);
      const cause = code ?? (error as Error).name;
      if (code !== undefined && TLS_CERTIFICATE_ERROR.test(code)) {
        // Retrying cannot fix a certificate we do not trust: a person must act, and be told how.
        throw new CustomsUnreachableError(
          'CONFIG',
          `customs' TLS certificate at ${this.uploadUrl} is not trusted (${code}): give Node the CA that issued it with ` +
            'NODE_EXTRA_CA_CERTS=/path/to/ca.pem (a PEM file; the service must be restarted), or check CEB179_CUSTOMS_URL and any proxy that intercepts TLS',
          Date.now() - started,
          false,
        );
      }
      const neverSent = code !== undefined && NEVER_SENT.has(code);
      throw new CustomsUnreachableError('TRANSPORT', `customs unreachable (${cause})`, Date.now() - started, !neverSent);
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
    // code is a string in the documents; accept a number too.
    const code = typeof body.code === 'string' || typeof body.code === 'number' ? String(body.code) : undefined;
    if (code === undefined) throw this.notCustoms(response.status, body.code === undefined || body.code === null ? 'no code' : 'a code that is neither text nor a number', latencyMs);
    return { httpStatus: response.status, code, message: typeof body.message === 'string' ? body.message : '', latencyMs };
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

/**
 * The error code behind a failed fetch: its cause's, or, when every address of a host name was
 * tried (an AggregateError), the one they all share.
 */
function failureCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (Array.isArray(cause?.errors)) {
    const codes = new Set(cause.errors.map((e) => (e as { code?: unknown }).code));
    const [only] = [...codes];
    if (codes.size === 1 && typeof only === 'string') return only;
  }
  return undefined;
}

/** Node's codes for a server certificate it does not accept (OpenSSL verify errors, host name mismatch). */
const TLS_CERTIFICATE_ERROR = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT_|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/** Failures that happen before a single byte of the upload can have left: customs cannot have it. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * No HTTP answer came back. `mayHaveReached` is false only when the request certainly never left
 * (connection refused, name not resolved, certificate refused); a timeout or a reset may come
 * after customs stored the upload.
 */
export class CustomsUnreachableError extends AppError {
  constructor(code: 'TRANSPORT' | 'CONFIG', message: string, readonly latencyMs: number, readonly mayHaveReached: boolean) {
    super(code, message);
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
