import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { isAppError } from '@ceb179/errors';
import { closeGracefully, listenBounded } from '@ceb179/metrics';
import type { Logger } from '@ceb179/logger';
import type { ListKind } from '@ceb179/operator';
import type { OperatorView } from '../../domain/operator-view';
import { requireToken } from './token-auth.middleware';
import { CONSOLE_PAGE } from './console.page';

export interface ConsoleServerOptions {
  port: number;
  token: string;
  view: OperatorView;
  /** Dependencies answering: Postgres, Redis (RabbitMQ is only needed for a re-send). */
  ready: () => Promise<Record<string, boolean>>;
  logger: Logger;
}

const LIST_KINDS: readonly ListKind[] = ['all', 'failed', 'late', 'in-flight'];

function boundedInt(value: unknown, fallback: number, max: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : fallback;
  return Math.min(Math.max(n, 1), max);
}

/** Page, JSON API and probes. Every path but /healthz and /readyz needs the console token. */
export class ConsoleServer {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(private readonly options: ConsoleServerOptions) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { view, logger } = this.options;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.get('/healthz', (_request, response) => void response.json({ status: 'ok' }));
    app.get('/readyz', async (_request, response) => {
      const checks = await this.options.ready();
      const ready = Object.values(checks).every(Boolean);
      response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks });
    });
    app.use(requireToken(this.options.token));
    app.use((_request, response, next) => {
      response.set('Cache-Control', 'no-store');
      next();
    });
    app.get('/', (_request, response) => {
      response
        .set(
          'Content-Security-Policy',
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        )
        .type('html')
        .send(CONSOLE_PAGE);
    });
    app.get('/api/overview', async (request, response) => {
      response.json(await view.overview(boundedInt(request.query.hours, 24, 24 * 90)));
    });
    app.get('/api/requests', async (request, response) => {
      const kind = (LIST_KINDS as readonly unknown[]).includes(request.query.kind) ? (request.query.kind as ListKind) : 'all';
      response.json(await view.list(kind, boundedInt(request.query.limit, 50, 500)));
    });
    app.get('/api/requests/:key', async (request, response) => {
      const found = await view.detail(String(request.params.key));
      if (found.length === 0) {
        response.status(404).json({ error: `no request with sessionID or orderNo ${String(request.params.key)}` });
        return;
      }
      response.json(found);
    });
    app.post('/api/requests/:sessionID/resend', async (request, response) => {
      // A JSON content type cannot be sent cross-site without a CORS preflight we never allow.
      if (!request.is('application/json')) {
        response.status(415).json({ error: 'send the re-send request as application/json' });
        return;
      }
      const sessionID = String(request.params.sessionID);
      const operator = String(response.locals.operator ?? 'console');
      const accepted = await view.resend(sessionID, operator);
      logger.info({ sessionID, operator }, 're-send requested from the console');
      response.status(202).json({ ...accepted, queued: true });
    });
    app.use((_request, response) => void response.status(404).json({ error: 'not found' }));
    app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
      if (isAppError(error) && error.code === 'NOT_FOUND') return void response.status(404).json({ error: error.message });
      if (isAppError(error) && error.code === 'INVALID_INPUT') return void response.status(409).json({ error: error.message });
      logger.error({ err: error instanceof Error ? error.message : String(error), path: request.path }, 'console request failed');
      response.status(503).json({ error: isAppError(error) ? error.message : 'internal error' });
    });
    const server = createServer(app);
    this.boundPort = await listenBounded(server, this.options.port, 30_000);
    this.server = server;
    logger.info({ port: this.boundPort }, 'console listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeGracefully(server);
  }
}
