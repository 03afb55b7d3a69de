import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as amqp from 'amqplib';
import pino from 'pino';
import { SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import { declareSignJobRouting } from '@ceb179/mq';
import { createTestVhost, TEST_SIGN_JOB_KEY, type TestVhost } from '@ceb179/testkit';
import { composeSigner, type Signer } from '../src/compose';
import { loadSignerConfig } from '../src/config';

/** The card PC's state folder (PIN refusal memory), fresh for this file. */
const SIGNER_STATE_DIR = mkdtempSync(path.join(tmpdir(), 'ceb179-signer-state-'));

const PIN = '13572468';
const DAY = 24 * 3600 * 1000;

/** Captures the signer's JSON log lines. */
function capture(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => lines };
}

describe('signer and the card certificate validity', () => {
  let vhost: TestVhost;
  let eport: EportSim | undefined;
  let signer: Signer | undefined;

  beforeAll(async () => {
    vhost = await createTestVhost();
    // What the assembler declares: the signer only binds to it.
    const connection = await amqp.connect(vhost.url);
    await declareSignJobRouting(await connection.createChannel());
    await connection.close();
  });
  afterEach(async () => {
    await signer?.stop();
    await eport?.stop();
    signer = undefined;
  });
  afterAll(() => vhost.delete());

  async function start(card: SoftCard, logger: pino.Logger): Promise<Signer> {
    eport = await startEportSim({ card });
    const config = loadSignerConfig({
      CEB179_AMQP_URL: vhost.url,
      CEB179_EPORT_URL: eport.url,
      CEB179_CARD_PIN: PIN,
      CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
      CEB179_SIGNER_HEALTH_PORT: '0',
      CEB179_SIGNER_STATE_DIR: SIGNER_STATE_DIR,
    });
    signer = composeSigner(config, logger);
    await signer.start();
    return signer;
  }

  it('warns in the log, the metrics and /health from 30 days before expiry, and keeps signing', async () => {
    const { logger, lines } = capture();
    const card = SoftCard.create({
      algorithm: 'RSA',
      pin: PIN,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 10 * DAY + 3_600_000),
    });
    const running = await start(card, logger);
    expect(running.status.state).toBe('ready');
    expect(lines().some((l) => l.alert === 'certificate-expiry' && l.daysLeft === 10)).toBe(true);
    const health = (await (await fetch(`${running.healthUrl}/health`)).json()) as {
      expiringSoon: boolean;
      daysLeft: number;
      state: string;
    };
    expect(health).toMatchObject({ state: 'ready', expiringSoon: true, daysLeft: 10 });
    const metrics = await (await fetch(`${running.healthUrl}/metrics`)).text();
    expect(metrics).toContain('ceb179_signer_certificate_days_left 10');
    expect(metrics).toContain('ceb179_signer_certificate_expiring 1');
  });

  it('does not consume with an expired certificate, and says why', async () => {
    const { logger, lines } = capture();
    const card = SoftCard.create({
      algorithm: 'SM2',
      pin: PIN,
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const running = await start(card, logger);
    expect(running.status.state).toBe('expired');
    expect(running.status.reason).toMatch(/expired on/);
    expect(lines().some((l) => l.alert === 'card')).toBe(true);
    expect(eport?.stats().pinAttempts).toBe(0); // the self-test stops before signing the probe
    const health = await fetch(`${running.healthUrl}/health`);
    expect(health.status).toBe(503);
  });
});
