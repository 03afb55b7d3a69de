import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@ceb179/logger';
import { ServiceMetrics } from '@ceb179/metrics';
import { SIGNER_STATES as STATES, type SignerStatus } from '../domain/signer-status';

/**
 * GET /health (JSON: state, reason, card, certificate expiry, last success) and GET /metrics
 * (Prometheus text) on loopback only: the card PC exposes nothing to the network.
 */
export class HealthServer {
  private server: Server | undefined;
  private boundPort = 0;
  private readonly metrics = new ServiceMetrics('signer', { labelSeries: false });

  constructor(
    private readonly status: SignerStatus,
    private readonly port: number,
    private readonly logger: Logger,
  ) {
    // prom-client, like the cloud services (libs/metrics); every value read from the status at scrape time.
    const m = this.metrics;
    const now = () => this.status.snapshot();
    m.gauge('ceb179_signer_state', '1 for the current state of the signer', ['state'], async (g) => {
      const state = now().state;
      for (const s of STATES) g.set({ state: s }, state === s ? 1 : 0);
    });
    m.counterFrom('ceb179_signer_signatures_total', 'Signatures made and verified', () => now().signatures);
    m.counterFrom('ceb179_signer_reader_faults_total', 'Reader or control faults', () => now().readerFaults);
    m.counterFrom(
      'ceb179_signer_bad_signatures_total',
      'Signatures that failed local verification (never published)',
      () => now().badSignatures,
    );
    m.gauge('ceb179_signer_certificate_days_left', 'days until the card certificate expires', [], async (g) =>
      g.set(now().daysLeft ?? Number.NaN),
    );
    m.gauge('ceb179_signer_certificate_expiring', '1 when the card certificate expires within 30 days', [], async (g) =>
      g.set(now().expiringSoon ? 1 : 0),
    );
    m.gauge('ceb179_signer_last_success_timestamp_seconds', 'When the last signature was made', [], async (g) => {
      const last = now().lastSuccessAt;
      g.set(last ? Math.floor(Date.parse(last) / 1000) : 0);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /**
   * A busy port (say, a second signer on the same PC) must not stop signing: the endpoint is
   * for people and monitors, so its failure is logged and the signer carries on without it.
   */
  async start(): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, '127.0.0.1', () => resolve());
      });
    } catch (error) {
      this.logger.error(
        { port: this.port, err: (error as Error).message },
        'health endpoint not started: set CEB179_SIGNER_HEALTH_PORT to a free port',
      );
      return;
    }
    this.server = server;
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.port;
    this.logger.info({ url: `${this.url}/health` }, 'signer health endpoint');
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const snapshot = this.status.snapshot();
    if (request.method === 'GET' && request.url === '/health') {
      const healthy = snapshot.state === 'ready' || snapshot.state === 'starting';
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(snapshot));
      return;
    }
    if (request.method === 'GET' && request.url === '/metrics') {
      this.metrics.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': this.metrics.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`metrics failed: ${(error as Error).message}\n`);
        },
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":"GET /health or /metrics"}');
  }
}
