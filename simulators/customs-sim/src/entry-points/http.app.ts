import express, { type ErrorRequestHandler, type Request } from 'express';
import { AppError, isAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import type { CertificateRegistry } from '../domain/certificate-registry';
import type { UploadDesk } from '../domain/upload-desk';
import type { UploadLog } from '../domain/upload-log';
import { simRoutes, type FireCallback } from './sim.router';

export const UPLOAD_PATH = '/ceb2grab/grab/realTimeDataUpload';

export interface HttpAppDependencies {
  desk: UploadDesk;
  log: UploadLog;
  registry: CertificateRegistry;
  fireCallback: FireCallback;
  logger?: Logger;
}

export function createHttpApp(deps: HttpAppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // The raw text is kept (tests compare it byte for byte), so the form is parsed by the desk,
  // not by express.urlencoded. Any content type is read: a wrong one is answered with 20000.
  app.post(UPLOAD_PATH, express.raw({ type: () => true, limit: '5mb' }), async (req, res) => {
    const answer = deps.desk.receive({
      contentType: req.get('content-type') ?? '',
      ...(req.get('user-agent') === undefined ? {} : { userAgent: req.get('user-agent') }),
      rawBody: Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '',
    });
    deps.logger?.info(
      {
        sessionID: answer.record.sessionID,
        certNo: answer.record.certNo,
        httpStatus: answer.httpStatus,
        code: answer.record.code,
        verified: answer.record.verified,
        message: answer.record.message,
      },
      'upload received',
    );
    if (answer.holdMs) await new Promise((resolve) => setTimeout(resolve, answer.holdMs));
    if (res.destroyed) return; // the client gave up waiting
    // A Buffer, so express keeps customs' exact `application/json;charset=utf-8` instead of reformatting it.
    res.status(answer.httpStatus).setHeader('Content-Type', answer.contentType);
    res.send(Buffer.from(answer.body, 'utf8'));
  });

  app.use('/sim', express.json({ limit: '1mb' }), simRoutes(deps));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use((req, res) => {
    res.status(404).json({ error: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` });
  });
  app.use(errorHandler(deps.logger));
  return app;
}

/** The one error handler: AppError codes and body-parser statuses become JSON; no stack ever leaves. */
function errorHandler(logger: Logger | undefined): ErrorRequestHandler {
  return (error: unknown, req: Request, res, _next) => {
    const status = statusOf(error);
    const code = isAppError(error) ? error.code : status < 500 ? 'INVALID_INPUT' : 'INTERNAL';
    const message = isAppError(error) ? error.reason : status < 500 && error instanceof Error ? error.message : 'internal error';
    if (status >= 500) logger?.error({ err: error instanceof Error ? error.message : String(error), path: req.path }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ error: code, message });
  };
}

function statusOf(error: unknown): number {
  if (error instanceof AppError) {
    if (error.code === 'INVALID_INPUT') return 400;
    if (error.code === 'NOT_FOUND') return 404;
    if (error.code === 'TRANSPORT') return 502;
    return 500;
  }
  // body-parser errors carry their status (400 bad JSON, 413 too large, 415 charset).
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}
