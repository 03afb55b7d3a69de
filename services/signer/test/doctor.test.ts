import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { HARSH_QUIRKS, SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import { createTestVhost, repoRoot, TEST_SIGN_JOB_KEY, type TestVhost } from '@ceb179/testkit';

/** The card PC's state folder (PIN refusal memory), fresh for this file. */
const SIGNER_STATE_DIR = mkdtempSync(path.join(tmpdir(), 'ceb179-signer-state-'));

const PIN = '24680135';

function runDoctor(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'services/signer/dist/doctor.js'), ...args], {
    // Port 1: no running signer to defer to, unless a test says otherwise.
    env: {
      PATH: process.env.PATH ?? '',
      CEB179_SIGNER_HEALTH_PORT: '1',
      CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
      ...env,
      CEB179_SIGNER_STATE_DIR: SIGNER_STATE_DIR,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('signer doctor', () => {
  let vhost: TestVhost;
  let eport: EportSim;
  const card = SoftCard.create({ algorithm: 'SM2', pin: PIN });

  beforeAll(async () => {
    vhost = await createTestVhost();
    eport = await startEportSim({ card });
  });

  afterAll(async () => {
    await eport.stop();
    await vhost.delete();
  });

  // The control (and its card) is shared by the tests of this file: each counts the PIN attempts it
  // causes itself, so any order gives the same result.
  it('reports each check and what to fix, without spending a PIN attempt', async () => {
    const attemptsBefore = eport.stats().pinAttempts;
    const { code, output } = await runDoctor({ CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: eport.url });
    expect(output).toContain('[OK  ] E-Port control: reachable, greeting received');
    expect(output).toContain(`[OK  ] certNo: ${card.certNo} (SM2-SM3`);
    expect(output).toContain('[OK  ] RabbitMQ: reachable');
    // The signer never ran on this vhost, so its queue is not there yet: the doctor says how to fix it.
    expect(output).toContain('[FAIL] queue ceb179.sign-jobs.any: not declared yet');
    expect(output).toContain('fix: start the signer once');
    expect(code).toBe(1);
    expect(eport.stats().pinAttempts - attemptsBefore).toBe(0);
  });

  it('with --check-pin run twice with the same wrong PIN, the second run sends nothing (the refusal is remembered)', async () => {
    const other = await startEportSim({ card: SoftCard.create({ algorithm: 'RSA', pin: PIN }) });
    const wrong = '13131313';
    const first = await runDoctor({ CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: other.url, CEB179_CARD_PIN: wrong }, ['--check-pin']);
    expect(first.output).toMatch(/\[FAIL\] PIN: refused/);
    const second = await runDoctor({ CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: other.url, CEB179_CARD_PIN: wrong }, ['--check-pin']);
    expect(second.output).toMatch(/\[FAIL\] PIN: not sent: card \w+ refused this PIN/);
    expect(other.stats()).toMatchObject({ pinAttempts: 1, wrongPinAttempts: 1, locked: false });
    await other.stop();
  });

  it('with --first-contact reports how a harsh control writes things and verifies a probe with Chinese text', async () => {
    const harsh = await startEportSim({ card: SoftCard.create({ algorithm: 'SM2', pin: PIN }), quirks: HARSH_QUIRKS });
    const { output } = await runDoctor(
      { CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: harsh.url, CEB179_CARD_PIN: PIN, CEB179_SIGNER_GREETING_TIMEOUT_MS: '300' },
      ['--first-contact'],
    );
    expect(output).toContain('reachable, but no greeting');
    expect(output).toContain('[OK  ] WebSocket pings: not answered');
    expect(output).toContain('[OK  ] certNo form: upper case');
    expect(output).toContain('[OK  ] certificate form: PEM with header lines');
    expect(output).toContain('[OK  ] signature form: base64 in CRLF lines');
    expect(output).toContain('[OK  ] probe signature (Chinese, quotes, backslash, newline, / and &): verifies locally (SM2-SM3)');
    expect(output).not.toContain(PIN);
    expect(harsh.stats()).toMatchObject({ pinAttempts: 1, wrongPinAttempts: 0 });
    await harsh.stop();
  });

  it('with --first-contact names a control that signs GBK', async () => {
    const gbk = await startEportSim({ card: SoftCard.create({ algorithm: 'RSA', pin: PIN }), quirks: { signEncoding: 'gbk' } });
    const { code, output } = await runDoctor({ CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: gbk.url, CEB179_CARD_PIN: PIN }, [
      '--first-contact',
    ]);
    expect(output).toMatch(/\[FAIL\] probe signature \(Chinese.*the control signs the GBK \(GB18030\) bytes of the sign string/);
    expect(code).toBe(1);
    await gbk.stop();
  });

  it('with --check-pin spends exactly one attempt and never prints the PIN', async () => {
    const wrong = '99999999';
    const attemptsBefore = eport.stats().pinAttempts;
    const { output } = await runDoctor({ CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: eport.url, CEB179_CARD_PIN: wrong }, [
      '--check-pin',
    ]);
    expect(output).toContain('this spends ONE PIN attempt');
    expect(output).toMatch(/\[FAIL\] PIN: refused/);
    expect(output).not.toContain(wrong);
    expect(eport.stats().pinAttempts - attemptsBefore).toBe(1);
    expect(eport.stats().locked).toBe(false);
  });

  it('names the unreachable control and the fix', async () => {
    const { code, output } = await runDoctor({ CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: 'ws://127.0.0.1:1' });
    expect(output).toContain('[FAIL] E-Port control: not reachable at ws://127.0.0.1:1');
    expect(output).toContain('fix: install and start the China E-Port client control');
    expect(code).toBe(1);
  });

  it('defers to a running signer instead of opening a second connection to the control', async () => {
    const health = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          state: 'ready',
          reason: '',
          certNo: card.certNo,
          algorithm: 'SM2-SM3',
          notAfter: '2030-01-01T00:00:00.000Z',
          daysLeft: 999,
        }),
      );
    });
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
    const before = eport.stats().totalConnections;
    const { output } = await runDoctor({
      CEB179_AMQP_URL: vhost.url,
      CEB179_EPORT_URL: eport.url,
      CEB179_SIGNER_HEALTH_PORT: String((health.address() as AddressInfo).port),
    });
    health.close();
    expect(output).toContain('[OK  ] signer service: running (ready); card checks taken from its /health');
    expect(output).toContain(`[OK  ] certNo: ${card.certNo} (SM2-SM3)`);
    expect(eport.stats().totalConnections).toBe(before);
  });
});
