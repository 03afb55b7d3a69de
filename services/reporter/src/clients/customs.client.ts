import http from 'node:http';
import https from 'node:https';
import { AppError } from '@ceb179/errors';

/** Idle keep-alive connections to customs are closed after this long (as fetch's default did, 4 s). */
const IDLE_SOCKET_MS = 4_000;

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
 *
 * node:http(s) with a keep-alive agent rather than fetch: under load, fetch (undici) was a third
 * of the reporter's CPU per upload (docs/benchmarks.md, "Profile"). The whole exchange, connect
 * included, is bounded by `timeoutMs`.
 */
export class CustomsClient {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(
    private readonly uploadUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.url = new URL(uploadUrl);
    const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  async upload(formBody: string): Promise<CustomsReply> {
    const started = Date.now();
    let response: { status: number; text: string; location: string | undefined };
    const sent = { connected: false };
    try {
      response = await this.post(Buffer.from(formBody, 'utf8'), sent);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const name = (error as Error).name;
      const cause = name === 'AbortError' ? 'TimeoutError' : typeof code === 'string' ? code : name;
      if (typeof code === 'string' && TLS_CERTIFICATE_ERROR.test(code)) {
        // Retrying cannot fix a certificate we do not trust: a person must act, and be told how.
        throw new CustomsUnreachableError(
          'CONFIG',
          `customs' TLS certificate at ${this.uploadUrl} is not trusted (${code}): give Node the CA that issued it with ` +
            'NODE_EXTRA_CA_CERTS=/path/to/ca.pem (a PEM file; the service must be restarted), or check CEB179_CUSTOMS_URL and any proxy that intercepts TLS',
          Date.now() - started,
          false,
        );
      }
      // Nothing can have reached customs while no connection was ever made (refused, not resolved, connect timed out).
      const neverSent = !sent.connected || (typeof code === 'string' && NEVER_SENT.has(code));
      throw new CustomsUnreachableError('TRANSPORT', `customs unreachable (${cause})`, Date.now() - started, !neverSent);
    }
    const latencyMs = Date.now() - started;
    if (response.status >= 300 && response.status < 400) {
      // An upload is never re-sent to wherever a redirect points: the configured address is wrong or outdated.
      throw new CustomsHttpError(
        'CONFIG',
        `customs URL ${this.uploadUrl} answered HTTP ${response.status}, a redirect to ${response.location ?? '(no Location)'}: uploads are not re-sent to a redirect; check CEB179_CUSTOMS_URL`,
        response.status,
        latencyMs,
      );
    }
    if (response.status >= 500 || RETRYABLE_4XX.has(response.status)) {
      throw new CustomsHttpError('TRANSPORT', `customs answered HTTP ${response.status}`, response.status, latencyMs);
    }
    let body: { code?: unknown; message?: unknown };
    try {
      body = JSON.parse(response.text) as { code?: unknown; message?: unknown };
    } catch {
      throw this.notCustoms(response.status, 'a body that is not JSON', latencyMs);
    }
    // JSON.parse also yields null, numbers and strings: none of them is a customs reply.
    if (body === null || typeof body !== 'object') throw this.notCustoms(response.status, 'no code', latencyMs);
    // code is a string in the documents; accept a number too.
    const code = typeof body.code === 'string' || typeof body.code === 'number' ? String(body.code) : undefined;
    if (code === undefined)
      throw this.notCustoms(
        response.status,
        body.code === undefined || body.code === null ? 'no code' : 'a code that is neither text nor a number',
        latencyMs,
      );
    return { httpStatus: response.status, code, message: typeof body.message === 'string' ? body.message : '', latencyMs };
  }

  /** Closes the idle keep-alive connections (service stop). */
  close(): void {
    this.agent.destroy();
  }

  private post(body: Buffer, sent: { connected: boolean }): Promise<{ status: number; text: string; location: string | undefined }> {
    const transport = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', 'content-length': body.length },
          signal: AbortSignal.timeout(this.timeoutMs),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              location: response.headers.location,
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('socket', (socket) => {
        if (!socket.connecting) sent.connected = true;
        else socket.once('connect', () => (sent.connected = true));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  /**
   * A reply that is not customs JSON: on 2xx it is a glitch worth retrying; on 4xx the URL is
   * wrong or something in between refuses us, which retrying cannot fix.
   */
  private notCustoms(status: number, what: string, latencyMs: number): CustomsHttpError {
    if (status >= 400) {
      return new CustomsHttpError(
        'CONFIG',
        `customs URL ${this.uploadUrl} answered HTTP ${status} with ${what}: check CEB179_CUSTOMS_URL and any proxy or firewall`,
        status,
        latencyMs,
      );
    }
    return new CustomsHttpError('TRANSPORT', `customs answered HTTP ${status} with ${what}`, status, latencyMs);
  }
}

/** Node's codes for a server certificate it does not accept (OpenSSL verify errors, host name mismatch). */
const TLS_CERTIFICATE_ERROR =
  /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT_|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/** Failures that happen before a single byte of the upload can have left: customs cannot have it. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * No HTTP answer came back. `mayHaveReached` is false only when the request certainly never left
 * (connection refused, name not resolved, certificate refused); a timeout or a reset may come
 * after customs stored the upload.
 */
export class CustomsUnreachableError extends AppError {
  constructor(
    code: 'TRANSPORT' | 'CONFIG',
    message: string,
    readonly latencyMs: number,
    readonly mayHaveReached: boolean,
  ) {
    super(code, message);
  }
}

/** 408 Request Timeout and 429 Too Many Requests clear up on their own. */
const RETRYABLE_4XX = new Set([408, 429]);

/** An HTTP exchange that happened but is not a customs answer; keeps the status for the ledger. */
export class CustomsHttpError extends AppError {
  constructor(
    code: 'TRANSPORT' | 'CONFIG',
    message: string,
    readonly httpStatus: number,
    readonly latencyMs: number,
  ) {
    super(code, message);
  }
}
