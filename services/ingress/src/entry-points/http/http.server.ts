import { createServer, type Server } from 'node:http';
import type { BlockList } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Logger } from '@ceb179/logger';
import type { CallbackIntake } from '../../domain/callback-intake.use-case';
import { callbackRouter } from './callback.route';
import { errorHandler } from './error.middleware';
import { healthRouter, type HealthProbe } from './health.route';
import { sendCustomsReply } from './customs-reply.writer';
import { sourceAllowList } from './source-allow-list.middleware';
import { SourceRateLimit } from './source-rate-limit.middleware';

export interface HttpServerOptions {
  port: number;
  allowedSources: BlockList | undefined;
  trustProxy: string;
  bodyLimitBytes: number;
  /** The listener of /healthz and /readyz, apart from the customs-facing one. */
  healthPort: number;
  healthHost: string;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Open connections the customs-facing listener accepts at once (0 = no cap). */
  maxConnections: number;
  intake: CallbackIntake;
  health: HealthProbe;
  logger: Logger;
  /** Runs first for every call to /platDataOpen (metrics: calls and how fast they were answered). */
  observeCallbacks?: RequestHandler;
}

/**
 * Two listeners: the customs-facing one serves only POST /platDataOpen (internet-facing: rate
 * limited per source, connections capped, source allow-list), and a second one, on loopback or
 * the cluster network only, serves /healthz and /readyz - the state of every dependency is
 * nobody's business on the internet.
 */
export class HttpServer {
  private server: Server | undefined;
  private healthServer: Server | undefined;
  private boundPort = 0;
  private boundHealthPort = 0;

  constructor(private readonly options: HttpServerOptions) {}

  get port(): number {
    return this.boundPort;
  }

  get healthPort(): number {
    return this.boundHealthPort;
  }

  async start(): Promise<void> {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.set('trust proxy', trustProxyValue(this.options.trustProxy));
    if (this.options.observeCallbacks) app.use('/platDataOpen', this.options.observeCallbacks);
    const rateLimit = new SourceRateLimit({ perSecond: this.options.rateLimitPerSecond, burst: this.options.rateLimitBurst });
    app.use(rateLimit.middleware(this.options.logger));
    app.use('/platDataOpen', sourceAllowList(this.options.allowedSources, this.options.logger));
    app.use(callbackRouter(this.options.intake, this.options.bodyLimitBytes));
    app.use((_request, response) => sendCustomsReply(response, '20000', 'unknown path; customs calls POST /platDataOpen', 404));
    app.use(errorHandler(this.options.logger));
    const server = createServer(app);
    // Customs' client keeps connections alive; do not let a slow peer hold sockets for ever.
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.keepAliveTimeout = 5_000;
    // A flood of idle connections must not exhaust file descriptors; customs needs a handful.
    if (this.options.maxConnections > 0) server.maxConnections = this.options.maxConnections;

    const healthApp = express();
    healthApp.disable('x-powered-by');
    healthApp.use(healthRouter(this.options.health));
    const healthServer = createServer(healthApp);
    healthServer.requestTimeout = 15_000;
    this.boundHealthPort = await listen(healthServer, this.options.healthPort, this.options.healthHost);
    this.healthServer = healthServer;
    this.options.logger.info(
      { host: this.options.healthHost, port: this.boundHealthPort },
      'ingress health endpoints (/healthz, /readyz) listening',
    );

    this.boundPort = await listen(server, this.options.port);
    this.server = server;
    this.options.logger.info({ port: this.boundPort }, 'ingress listening on /platDataOpen');
  }

  /** Stops accepting connections and waits for requests in progress to finish. */
  async stop(): Promise<void> {
    const servers = [this.server, this.healthServer].filter((s): s is Server => s !== undefined);
    this.server = undefined;
    this.healthServer = undefined;
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
      ),
    );
  }
}

async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (host) server.listen(port, host, () => resolve());
    else server.listen(port, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** 'false' | '2' | 'a.b.c.d/nn,...' -> what express expects. */
function trustProxyValue(setting: string): boolean | number | string[] {
  if (setting === 'false' || setting === '') return false;
  if (/^\d+$/.test(setting)) return Number(setting);
  return setting.split(',').map((s) => s.trim());
}
