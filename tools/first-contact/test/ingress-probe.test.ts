import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Pool } from 'pg';
import { migrate } from '@ceb179/db';
import { startServiceProcess, waitForOutput, type ServiceProcess } from '@ceb179/harness';
import { createTestDatabase, createTestVhost, testRedisUrl, type TestDatabase, type TestVhost } from '@ceb179/testkit';
import { CUSTOMS_USER_AGENT, probeIngress } from '../src/ingress-probe';

// The probe against a real ingress (built, run as a process, with Postgres, RabbitMQ and Redis);
// its answers to servers that are not ceb179 are unit-tested beside the code.

function listen(server: HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("ingress probe with customs' User-Agent", () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let ingress: ServiceProcess;
  let ingressBase: string;
  const extraServers: HttpServer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    vhost = await createTestVhost();
    const pool = new Pool({ connectionString: db.url });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
    ingress = startServiceProcess(
      'ingress',
      {
        CEB179_AMQP_URL: vhost.url,
        CEB179_DATABASE_URL: db.url,
        CEB179_REDIS_URL: testRedisUrl(),
        CEB179_INGRESS_PORT: '0',
        CEB179_LOG_LEVEL: 'info',
      },
      'first-contact-ingress',
    );
    await waitForOutput(ingress, 'ingress started');
    const listening = ingress
      .output()
      .split('\n')
      .find((line) => line.includes('ingress listening'));
    const port = (JSON.parse(listening ?? '{}') as { port?: number }).port;
    if (!port) throw new Error(`ingress did not say its port:\n${ingress.output()}`);
    ingressBase = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await Promise.all(extraServers.map((s) => close(s)));
    await ingress?.stop();
    await Promise.allSettled([db?.drop(), vhost?.delete()]);
  });

  async function recordedCalls(): Promise<number> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM ceb179.request');
      return rows[0]?.n ?? -1;
    } finally {
      await client.end();
    }
  }

  /** A stand-in for a web application firewall that blocks customs' client and passes anyone else. */
  async function firewallBlockingCustomsAgent(): Promise<string> {
    const target = new URL(ingressBase);
    const waf = createHttpServer((req, res) => {
      if ((req.headers['user-agent'] ?? '').includes('Apache-HttpClient')) {
        res.writeHead(403, { 'content-type': 'text/html', server: 'test-waf' }).end('<html><body>Request blocked</body></html>');
        return;
      }
      const forward = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        },
      );
      req.pipe(forward);
    });
    extraServers.push(waf);
    return `http://127.0.0.1:${await listen(waf)}`;
  }

  it("gets ceb179's own 20000 reply through, and nothing is recorded", async () => {
    const before = await recordedCalls();
    const results = await probeIngress(ingressBase, { timeoutMs: 5_000 });
    const probe = results.find((r) => r.name.startsWith("ingress reachable with customs' User-Agent"));
    expect(probe?.ok).toBe(true);
    expect(probe?.detail[0]).toMatch(
      /^ceb179 answered the deliberately invalid probe with 20000 \("openReq\.orderNo is missing"\); nothing was recorded$/,
    );
    expect(await recordedCalls()).toBe(before);
    expect(ingress.output()).toContain('rejected a call that is not a valid callback');
  });

  it("names a firewall that blocks customs' User-Agent but passes others", async () => {
    const results = await probeIngress(`${await firewallBlockingCustomsAgent()}/platDataOpen`, { timeoutMs: 5_000 });
    const probe = results.find((r) => r.name.startsWith("ingress reachable with customs' User-Agent"));
    expect(probe?.ok).toBe(false);
    expect(probe?.detail[0]).toContain(`with customs' User-Agent "${CUSTOMS_USER_AGENT}": HTTP 403, text/html, server test-waf`);
    expect(probe?.fix).toContain(`blocks customs' User-Agent "${CUSTOMS_USER_AGENT}"`);
    expect(probe?.doc).toBe('docs/first-contact.md#firewall');
  });
});
