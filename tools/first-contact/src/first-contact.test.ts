import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { repoRoot } from '@ceb179/testkit';
import { probeIngress } from './ingress-probe';
import { checkCustomsTls } from './tls-check';

const UPLOAD_PATH = '/ceb2grab/grab/realTimeDataUpload';

function listen(server: TlsServer | TcpServer | HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: TlsServer | TcpServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Runs the built CLI as an operator would, with only the environment given. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const cli = path.join(repoRoot(), 'tools/first-contact/dist/first-contact.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('customs TLS check', () => {
  let dir: string;
  let certFile: string;
  let certPem: string;
  let server: TlsServer;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ceb179-first-contact-'));
    certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    // A self-signed certificate for 127.0.0.1: untrusted by Node unless given as an extra CA.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '30',
        '-subj',
        '/CN=ceb179-test-customs/O=ceb179 test',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    certPem = readFileSync(certFile, 'utf8');
    server = createTlsServer({ key: readFileSync(keyFile), cert: certPem }, (socket) => socket.end());
    url = `https://127.0.0.1:${await listen(server)}${UPLOAD_PATH}`;
  });

  afterAll(async () => {
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the chain and its expiry, and names NODE_EXTRA_CA_CERTS when the chain is not trusted', async () => {
    const result = await checkCustomsTls(url, { timeoutMs: 5_000 });
    expect(result.ok).toBe(false);
    expect(result.detail[0]).toMatch(
      /^server: ceb179-test-customs, ceb179 test — issued by ceb179-test-customs, ceb179 test; valid until \S+ \((29|30) days left\)$/,
    );
    expect(result.detail.join('\n')).toMatch(/not trusted: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
    expect(result.fix).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('passes once the CA is trusted, and says so', async () => {
    const result = await checkCustomsTls(url, { timeoutMs: 5_000, ca: [certPem] });
    expect(result.ok).toBe(true);
    expect(result.detail.at(-1)).toBe('trusted, name matches');
  });

  it('gives up at its own time limit when the server never completes the handshake', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    const started = Date.now();
    try {
      const result = await checkCustomsTls(`https://127.0.0.1:${port}${UPLOAD_PATH}`, { timeoutMs: 300 });
      expect(result.ok).toBe(false);
      expect(result.detail[0]).toMatch(/^no TLS handshake within 300 ms/);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await close(silent);
    }
  });

  it('the command trusts exactly what NODE_EXTRA_CA_CERTS adds (exit 1 without it, 0 with it)', async () => {
    const untrusted = await runCli(['--customs-url', url, '--timeout-ms', '5000'], {});
    expect(untrusted.code).toBe(1);
    expect(untrusted.output).toContain('[FAIL] customs TLS (127.0.0.1:');
    expect(untrusted.output).toContain('NODE_EXTRA_CA_CERTS');
    const trusted = await runCli(['--customs-url', url, '--timeout-ms', '5000'], { NODE_EXTRA_CA_CERTS: certFile });
    expect(trusted.output).toContain('[OK  ] customs TLS (127.0.0.1:');
    expect(trusted.output).toContain('all checks passed');
    expect(trusted.code).toBe(0);
  });

  it('refuses bad arguments with exit code 2', async () => {
    const result = await runCli(['--customs-url'], {});
    expect(result.code).toBe(2);
    expect(result.output).toContain('--customs-url needs a value');
  });
});

describe('ingress probe against servers that are not ceb179', () => {
  const extraServers: HttpServer[] = [];

  afterAll(async () => {
    await Promise.all(extraServers.map((s) => close(s)));
  });

  it('says why nothing answered when nothing listens', async () => {
    const closed = createHttpServer();
    const port = await listen(closed);
    await close(closed);
    const results = await probeIngress(`http://127.0.0.1:${port}`, { timeoutMs: 5_000 });
    expect(results.map((r) => [r.note ?? false, r.ok])).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(results[1]?.detail).toEqual(['no HTTP answer (ECONNREFUSED)']);
  });

  it("tells a reply that is not ceb179's from a blocked User-Agent", async () => {
    const other = createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
    extraServers.push(other);
    const results = await probeIngress(`http://127.0.0.1:${await listen(other)}`, { timeoutMs: 5_000 });
    const probe = results.find((r) => r.name.startsWith("ingress reachable with customs' User-Agent"));
    expect(probe?.ok).toBe(false);
    expect(probe?.fix).toMatch(/^the reply is not ceb179's/);
  });
});
