import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@ceb179/logger';
import { fireCallback, type CallbackRequest } from './clients/callback.client';
import { CertificateRegistry } from './domain/certificate-registry';
import { UploadDesk } from './domain/upload-desk';
import { UploadLog } from './domain/upload-log';
import type { CallbackResult, RegisteredCertificate, UploadRecord } from './domain/types';
import { createHttpApp, UPLOAD_PATH } from './entry-points/http.app';

export type { CallbackResult, RegisteredCertificate, UploadRecord } from './domain/types';
export { CustomsCodes } from './domain/upload-desk';
export { CUSTOMS_USER_AGENT, openReqText } from './clients/callback.client';
export { UPLOAD_PATH } from './entry-points/http.app';

export interface CustomsSimOptions {
  /** 0 = a random free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  certificates?: RegisteredCertificate[];
  /** Answer 20000 to a signature that does not verify, instead of customs' 10000-now-check-later (M). Default false. */
  rejectBadSignatures?: boolean;
  /** Canonical base64 signValue only, bad signatures refused at once (see UploadDeskOptions.strict). Default false. */
  strict?: boolean;
  logger?: Logger;
}

/** What fireCallback takes: the ingress URL, the orderNo, and optionally sessionID, serviceTime and its form. */
export type FireCallbackOptions = CallbackRequest;

export interface CustomsSim {
  url: string;
  uploadUrl: string;
  registerCertificate(certificate: RegisteredCertificate): void;
  /** Every upload request in arrival order (injected faults and rejections included). */
  uploads(): UploadRecord[];
  /** sessionID -> the stored upload (code 10000). */
  accepted(): Map<string, UploadRecord>;
  /** The next `count` uploads are answered with `httpStatus` (default 503) and a non-JSON body. */
  failNextUploads(count: number, httpStatus?: number): void;
  /** The next `count` uploads are judged and stored at once, their replies held `holdMs` ms. */
  holdNextReplies(count: number, holdMs: number): void;
  /** The next `count` well-formed uploads are answered `code`/`message` and not stored (e.g. 20006 with a storage error). */
  refuseNextUploads(count: number, code: string, message: string): void;
  fireCallback(options: FireCallbackOptions): Promise<CallbackResult>;
  /** Resolves with the accepted uploads once there are at least `count`; rejects after `timeoutMs` saying what did arrive. */
  waitForUploads(count: number, timeoutMs: number): Promise<UploadRecord[]>;
  stop(): Promise<void>;
}

export async function startCustomsSim(options: CustomsSimOptions = {}): Promise<CustomsSim> {
  const registry = new CertificateRegistry();
  for (const certificate of options.certificates ?? []) registry.register(certificate);
  const log = new UploadLog();
  const desk = new UploadDesk(registry, log, {
    rejectBadSignatures: options.rejectBadSignatures ?? false,
    strict: options.strict ?? false,
  });
  const app = createHttpApp({ desk, log, registry, fireCallback, ...(options.logger ? { logger: options.logger } : {}) });

  const host = options.host ?? '127.0.0.1';
  const server = await listen(app, options.port ?? 0, host);
  const url = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  let stopped: Promise<void> | undefined;

  return {
    url,
    uploadUrl: url + UPLOAD_PATH,
    registerCertificate: (certificate) => void registry.register(certificate),
    uploads: () => log.uploads(),
    accepted: () => log.accepted(),
    failNextUploads: (count, httpStatus) => desk.failNext(count, httpStatus),
    holdNextReplies: (count, holdMs) => desk.holdNextReplies(count, holdMs),
    refuseNextUploads: (count, code, message) => desk.refuseNextUploads(count, code, message),
    fireCallback: (request) => fireCallback(request),
    waitForUploads: (count, timeoutMs) => log.waitForAccepted(count, timeoutMs),
    stop: () =>
      (stopped ??= new Promise<void>((resolve, reject) => {
        log.close();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from clients under test would hold close() open.
        server.closeAllConnections();
      })),
  };
}

function listen(app: ReturnType<typeof createHttpApp>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}

/** A wildcard listen address is not dialable: report loopback, which always reaches it. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
