import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { parseCertificate } from '@ceb179/protocol';
import { startServiceProcess, waitForOutput, type Pipeline, type ServiceProcess } from '@ceb179/harness';
import { createServiceUsers, repoRoot, waitFor } from '@ceb179/testkit';
import { cliEnv, runCli } from './cli-helper';
import { startOperatorScenario, type OperatorScenario } from './scenario';

/**
 * The operator console in a real headless Chromium (Debian's chromium driven by playwright-core)
 * over a real pipeline: the page shows what the ledger and the CLI show, counts down the deadline
 * of a request in flight, and its re-send button uploads the stored document once. The test
 * leaves a screenshot in docs/console.png.
 */
const CHROMIUM = process.env.CEB179_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'console-test-token-0b9f';

const describeWithChromium = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) {
  // Only where chromium cannot be installed (scripts/bootstrap.sh installs it): say why, loudly.
  process.stdout.write(`SKIPPING the console browser test: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`);
}

describeWithChromium('operator console in headless Chromium', () => {
  let scenario: OperatorScenario;
  let pipeline: Pipeline;
  let consoleProcess: ServiceProcess;
  let baseUrl: string;
  let browser: BrowserContext;
  let page: Page;
  let profileDir: string;

  beforeAll(async () => {
    scenario = await startOperatorScenario('operator-console');
    pipeline = scenario.pipeline;
    const port = 23_000 + Math.floor(Math.random() * 1_000);
    // The console connects to RabbitMQ as the least-privilege "operator" user of deploy/rabbitmq/permissions.json.
    const users = (await createServiceUsers(pipeline.vhost, path.join(repoRoot(), 'deploy/rabbitmq/permissions.json'))) as Record<
      string,
      string
    >;
    consoleProcess = startServiceProcess(
      'console',
      {
        ...cliEnv(pipeline.env),
        CEB179_AMQP_URL: users.operator as string,
        CEB179_CONSOLE_PORT: String(port),
        CEB179_CONSOLE_TOKEN: TOKEN,
        CEB179_METRICS_PORT: '0',
      },
      'operator-console-console',
    );
    await waitForOutput(consoleProcess, 'console started');
    baseUrl = `http://127.0.0.1:${port}`;
    profileDir = mkdtempSync(path.join(tmpdir(), 'ceb179-chromium-'));
    // A fresh profile (user-data-dir) every run: nothing cached or remembered from an earlier one.
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 30_000,
      httpCredentials: { username: 'tester', password: TOKEN },
      viewport: { width: 1500, height: 1100 },
    });
    page = await browser.newPage();
    page.setDefaultTimeout(15_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await consoleProcess?.stop();
    await pipeline?.stop();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  /** Each test opens the page itself, so none relies on where the one before left the browser. */
  async function openConsole(): Promise<void> {
    await page.goto(baseUrl);
    await page.locator(`tr[data-session="${scenario.sessions.waiting}"]`).waitFor();
  }

  it('asks for the token: probes are open, the page and the API are not', async () => {
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, redis: true } });
    const anonymous = await fetch(`${baseUrl}/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    expect((await fetch(`${baseUrl}/api/overview`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${baseUrl}/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('shows counts per stage, the signer card and every request with its status', async () => {
    await openConsole();
    // The ledger's counts: the scenario's four requests, plus the one the re-send test rejects and uploads if it ran first.
    const { rows } = await pipeline.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM ceb179.request GROUP BY status',
    );
    const ledger = new Map(rows.map((row) => [row.status, row.n]));
    expect([...ledger.keys()].sort()).toEqual(['assembled', 'data_fault', 'upload_rejected', 'uploaded']);
    for (const status of ['uploaded', 'upload_rejected', 'assembled', 'data_fault', 'signed']) {
      await expect(page.locator(`.count[data-status="${status}"] b`).textContent()).resolves.toBe(String(ledger.get(status) ?? 0));
    }
    for (const [key, status] of [
      ['uploaded', 'uploaded'],
      ['rejected', 'upload_rejected'],
      ['waiting', 'assembled'],
      ['unknown', 'data_fault'],
    ] as const) {
      await expect(page.locator(`tr[data-session="${scenario.sessions[key]}"] .status`).textContent()).resolves.toBe(status);
    }
    const certNo = parseCertificate(pipeline.eport.card.certificateBase64).certNo;
    const card = page.locator('.card', { hasText: certNo });
    await card.waitFor();
    const cardText = await card.textContent();
    expect(cardText).toContain('state ready');
    expect(cardText).toContain('RSA-SHA1');
    expect(cardText).toMatch(/expires \d{4}-\d\d-\d\dT.* \(\d+ days left\)/);
    expect(cardText).toContain('last heartbeat 20');
  });

  it('counts down the deadline of the request in flight', async () => {
    await openConsole();
    const cell = page.locator(`tr[data-session="${scenario.sessions.waiting}"] td.live`);
    const first = await cell.textContent();
    await page.waitForTimeout(1_200);
    const second = await cell.textContent();
    const seconds = (text: string | null) => Number(/^(\d+\.\d) s left$/.exec(text ?? '')?.[1]);
    expect(seconds(first)).toBeGreaterThan(seconds(second));
    expect(seconds(first) - seconds(second)).toBeGreaterThanOrEqual(0.9);
  });

  it('filters the requests: failed, in flight, all', async () => {
    await openConsole();
    const shown = () =>
      page.locator('#requests tr[data-session]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-session')).sort());
    const showsExactly = (expected: string[]) =>
      waitFor(
        `rows ${expected.join(',')}`,
        async () => (JSON.stringify(await shown()) === JSON.stringify(expected) ? true : undefined),
        10_000,
      );
    await page.locator('#filters a[data-kind="failed"]').click();
    await showsExactly([scenario.sessions.rejected, scenario.sessions.unknown].sort());
    await page.locator('#filters a[data-kind="in-flight"]').click();
    await showsExactly([scenario.sessions.waiting]);
    await page.locator('#filters a[data-kind="all"]').click();
    const all = await pipeline.pool.query<{ session_id: string }>('SELECT session_id FROM ceb179.request');
    await showsExactly(all.rows.map((row) => row.session_id).sort());
  });

  it('shows the same timeline as the ledger and the CLI', async () => {
    await openConsole();
    const sessionID = scenario.sessions.uploaded;
    await page.locator(`tr[data-session="${sessionID}"]`).click();
    await page.locator('#detail-id', { hasText: sessionID }).waitFor();
    const cli = JSON.parse((await runCli(['show', sessionID, '--json'], cliEnv(pipeline.env))).stdout);
    const row = (await pipeline.pool.query('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0];
    const attempts = (await pipeline.pool.query('SELECT * FROM ceb179.upload_attempt WHERE session_id = $1 ORDER BY id', [sessionID])).rows;

    const stagesOnPage = await page
      .locator('#stages tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    const ledgerStages = [
      ['received', row.received_at],
      ['assembled', row.assembled_at],
      ['signed', row.signed_at],
      ['uploaded', row.uploaded_at],
    ].map(([stage, at]) => [stage, (at as Date).toISOString(), `+${(at as Date).getTime() - (row.received_at as Date).getTime()} ms`]);
    expect(stagesOnPage).toEqual(ledgerStages);
    expect(
      cli.stages.map((s: { stage: string; at: string; sinceReceivedMs: number }) => [s.stage, s.at, `+${s.sinceReceivedMs} ms`]),
    ).toEqual(ledgerStages);

    const attemptsOnPage = await page
      .locator('#attempts tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    const ledgerAttempts = attempts.map((a, i) => [
      String(i + 1),
      (a.attempted_at as Date).toISOString(),
      String(a.http_status),
      a.customs_code,
      a.customs_message ?? '',
      a.outcome,
      `${a.latency_ms} ms`,
      a.error ?? '',
    ]);
    expect(attemptsOnPage).toEqual(ledgerAttempts);
    expect(
      cli.attempts.map((a: { attemptedAt: string; httpStatus: number; customsCode: string; outcome: string; latencyMs: number }) => [
        a.attemptedAt,
        String(a.httpStatus),
        a.customsCode,
        a.outcome,
        `${a.latencyMs} ms`,
      ]),
    ).toEqual(ledgerAttempts.map((a) => [a[1], a[2], a[3], a[5], a[6]]));

    await expect(page.locator('#detail-deadline').textContent()).resolves.toBe(
      `uploaded ${(((row.deadline_at as Date).getTime() - (row.uploaded_at as Date).getTime()) / 1000).toFixed(1)} s inside`,
    );
    expect(await page.locator('#resend').isDisabled()).toBe(true);
    await expect(page.locator('#resend-note').textContent()).resolves.toContain('customs already holds');
  });

  it('re-sends a rejected request once with the stored bytes, and refuses one customs holds', async () => {
    // A rejected request of its own: the scenario's stays rejected for the tests that look at it.
    const { sessionID } = await scenario.rejectedRequest('resend');
    await openConsole();
    const stored = (await pipeline.pool.query('SELECT * FROM ceb179.request WHERE session_id = $1', [sessionID])).rows[0];
    await page.locator(`tr[data-session="${sessionID}"]`).click();
    await page.locator('#detail-id', { hasText: sessionID }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('#resend').click();
    await page.locator('#detail-status', { hasText: 'uploaded' }).waitFor({ timeout: 20_000 });
    await page.locator('#attempts tbody tr').nth(1).waitFor();

    expect(pipeline.customs.accepted().get(sessionID)).toMatchObject({
      headJson: stored.head_json,
      listsJson: stored.lists_json,
      serviceTime: stored.service_time,
      certNo: stored.cert_no,
      signValue: stored.sign_value,
      verified: true,
    });
    expect(pipeline.customs.uploads().filter((u) => u.sessionID === sessionID)).toHaveLength(2); // the 503, then the re-send
    const attemptsOnPage = await page
      .locator('#attempts tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(attemptsOnPage.map((a) => [a[2], a[3], a[5]])).toEqual([
      ['503', '-', 'transport_fault'],
      ['200', '10000', 'accepted'],
    ]);
    expect(await page.locator('#resend').isDisabled()).toBe(true);

    const again = await fetch(`${baseUrl}/api/requests/${sessionID}/resend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toContain('customs already holds');
    const form = await fetch(`${baseUrl}/api/requests/${scenario.sessions.uploaded}/resend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(form.status).toBe(415);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(pipeline.customs.uploads().filter((u) => u.sessionID === sessionID)).toHaveLength(2);

    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: path.join(repoRoot(), 'docs/console.png'), fullPage: true });
    expect(existsSync(path.join(repoRoot(), 'docs/console.png'))).toBe(true);
  });
});
