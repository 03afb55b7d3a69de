import { createLogger } from '@ceb179/logger';
import { OpsServer } from './ops-server';
import { ServiceMetrics } from './registry';

describe('ops listener', () => {
  const logger = createLogger({ service: 'test', level: 'silent' });
  let checks: Record<string, boolean>;
  let server: OpsServer;
  let metrics: ServiceMetrics;

  beforeAll(async () => {
    metrics = new ServiceMetrics('unit');
    server = new OpsServer({ port: 0, metrics, logger, readiness: async () => checks });
    await server.start();
  });
  afterAll(() => server.stop());

  it('is ready only while every check passes, and names the failing one', async () => {
    checks = { database: true, consumers: true };
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
    checks = { database: true, consumers: false };
    const notReady = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not-ready', checks: { database: true, consumers: false } });
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  });

  it('serves the registry with the service label, and a gauge read at scrape time', async () => {
    let backlog = 3;
    metrics.gauge('unit_backlog', 'test backlog', [], async (gauge) => gauge.set(backlog));
    const first = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(first).toContain('unit_backlog{service="unit"} 3');
    backlog = 7;
    expect(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).toContain('unit_backlog{service="unit"} 7');
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });
});
