import { createServer, type Server } from 'node:http';
import type { Logger } from '@ceb179/logger';
import { closeGracefully, listenBounded } from './http-listener';
import { bounded, type ServiceMetrics } from './registry';

export interface OpsServerOptions {
  port: number;
  metrics: ServiceMetrics;
  /** Named readiness checks (dependencies answering, consumers attached); ready = all true. */
  readiness: () => Promise<Record<string, boolean>>;
  logger: Logger;
}

/**
 * The ops listener every cloud service runs beside its work: GET /metrics (Prometheus),
 * /healthz (the process serves: liveness) and /readyz (200 when every readiness check passes,
 * else 503 with the checks). A port of its own, so Kubernetes probes and Prometheus never
 * share customs' listener.
 */
export class OpsServer {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(private readonly options: OpsServerOptions) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { metrics, readiness, logger } = this.options;
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      const send = (status: number, type: string, body: string) => {
        response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        response.end(body);
      };
      if (request.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
      if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}');
      if (path === '/readyz') {
        void bounded(readiness, 3_000).then((checks) => {
          const result = checks ?? { checks: false };
          const ready = Object.values(result).every(Boolean);
          send(ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not-ready', checks: result }));
        });
        return;
      }
      if (path === '/metrics') {
        metrics.metrics().then(
          (text) => send(200, metrics.contentType, text),
          (error: unknown) => send(500, 'text/plain', `metrics failed: ${(error as Error).message}\n`),
        );
        return;
      }
      send(404, 'text/plain', 'not found\n');
    });
    this.boundPort = await listenBounded(server, this.options.port, 15_000);
    this.server = server;
    logger.info({ opsPort: this.boundPort }, 'ops endpoints listening (/metrics, /healthz, /readyz)');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeGracefully(server);
  }
}
