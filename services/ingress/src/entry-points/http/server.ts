import { createServer, type Server } from 'node:http';
import type { BlockList } from 'node:net';
import express from 'express';
import type { Logger } from '@ceb179/logger';
import type { CallbackIntake } from '../../domain/callback-intake';
import { callbackRouter } from './callback.route';
import { errorHandler } from './error-handler';
import { healthRouter, type HealthProbe } from './health.route';
import { sendCustomsReply } from './customs-reply';
import { sourceAllowList } from './source-allow-list';

export interface HttpServerOptions {
  port: number;
  allowedSources: BlockList | undefined;
  trustProxy: string;
  bodyLimitBytes: number;
  intake: CallbackIntake;
  health: HealthProbe;
  logger: Logger;
}

export class HttpServer {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(private readonly options: HttpServerOptions) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.set('trust proxy', trustProxyValue(this.options.trustProxy));
    app.use('/platDataOpen', sourceAllowList(this.options.allowedSources, this.options.logger));
    app.use(callbackRouter(this.options.intake, this.options.bodyLimitBytes));
    app.use(healthRouter(this.options.health));
    app.use((_request, response) => sendCustomsReply(response, '20000', 'unknown path; customs calls POST /platDataOpen', 404));
    app.use(errorHandler(this.options.logger));
    const server = createServer(app);
    // Customs' client keeps connections alive; do not let a slow peer hold sockets for ever.
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, () => resolve());
    });
    this.server = server;
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
    this.options.logger.info({ port: this.boundPort }, 'ingress listening on /platDataOpen');
  }

  /** Stops accepting connections and waits for requests in progress to finish. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }
}

/** 'false' | '2' | 'a.b.c.d/nn,...' -> what express expects. */
function trustProxyValue(setting: string): boolean | number | string[] {
  if (setting === 'false' || setting === '') return false;
  if (setting === 'true') return true;
  if (/^\d+$/.test(setting)) return Number(setting);
  return setting.split(',').map((s) => s.trim());
}
