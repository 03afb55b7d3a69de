import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as amqp from 'amqplib';
import { authenticateSignJob, Exchanges, Queues, SCHEMA_VERSION, type SignatureMessage, type SignJobMessage } from '@ceb179/contracts';
import { SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import { createLogger } from '@ceb179/logger';
import { declareSignatureConsumption, declareSignJobRouting } from '@ceb179/mq';
import { buildPaymentDocument, buildSignString, parseCertificate, verifySignature } from '@ceb179/protocol';
import { createTestVhost, makeFixture, TEST_SIGN_JOB_KEY, waitFor, type TestVhost } from '@ceb179/testkit';
import { composeSigner, type Signer } from '../src/compose';
import { loadSignerConfig } from '../src/config';

/** The card PC's state folder (PIN refusal memory), fresh for this file. */
const SIGNER_STATE_DIR = mkdtempSync(path.join(tmpdir(), 'ceb179-signer-state-'));

const PIN = '12345678';
const logger = createLogger({ service: 'test', level: 'silent' });

function job(sessionID: string, ebpCode = '3301963K69'): SignJobMessage {
  const fixture = makeFixture(sessionID, { ebpCode });
  const document = buildPaymentDocument({
    source: { payment: fixture.payment, orders: fixture.payment_order, goods: fixture.order_goods },
    guid: '9D55BA71-55DE-41F4-8B50-C36C83B3B419',
  });
  const signString = buildSignString({
    sessionID,
    headJson: document.headJson,
    listsJson: document.listsJson,
    serviceTime: '1700000000123',
  });
  return authenticateSignJob(TEST_SIGN_JOB_KEY, {
    v: SCHEMA_VERSION,
    sessionID,
    ebpCode,
    signString,
    deadline: new Date(Date.now() + 120_000).toISOString(),
  });
}

describe.each(['RSA', 'SM2'] as const)('signer with an %s card (real RabbitMQ, simulated control)', (algorithm) => {
  let vhost: TestVhost;
  let eport: EportSim;
  let signer: Signer | undefined;
  let connection: amqp.ChannelModel;
  let channel: amqp.ConfirmChannel;

  beforeAll(async () => {
    vhost = await createTestVhost();
    connection = await amqp.connect(vhost.url);
    channel = await connection.createConfirmChannel();
    // What the assembler and the reporter declare: the signer only binds to and publishes into them.
    await declareSignJobRouting(channel);
    await declareSignatureConsumption(channel);
  });

  afterEach(async () => {
    await signer?.stop();
    signer = undefined;
    await eport?.stop();
  });

  afterAll(async () => {
    await connection.close();
    await vhost.delete();
  });

  async function start(pin: string): Promise<Signer> {
    const config = loadSignerConfig({
      CEB179_AMQP_URL: vhost.url,
      CEB179_EPORT_URL: eport.url,
      CEB179_CARD_PIN: pin,
      CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
      CEB179_SIGNER_ID: 'test-signer',
      CEB179_SIGNER_HEALTH_PORT: '0',
      CEB179_SIGNER_STATE_DIR: SIGNER_STATE_DIR,
    });
    signer = composeSigner(config, logger);
    await signer.start();
    return signer;
  }

  async function publishJob(message: SignJobMessage): Promise<void> {
    channel.publish(Exchanges.signJobs, message.ebpCode, Buffer.from(JSON.stringify(message)), { persistent: true });
    await channel.waitForConfirms();
  }

  async function takeSignatures(count: number): Promise<SignatureMessage[]> {
    const received: SignatureMessage[] = [];
    await waitFor(
      `${count} signatures`,
      async () => {
        const message = await channel.get(Queues.signatures, { noAck: true });
        if (message) received.push(JSON.parse(message.content.toString()) as SignatureMessage);
        return received.length >= count ? received : undefined;
      },
      30_000,
      20,
    );
    return received;
  }

  it('self-tests the card, signs jobs one at a time and publishes signatures that verify', async () => {
    const card = SoftCard.create({ algorithm, pin: PIN });
    eport = await startEportSim({ card, signLatencyMs: 5 });
    const running = await start(PIN);
    expect(running.status.state).toBe('ready');
    const jobs = Array.from({ length: 6 }, (_, i) => job(`sig-${algorithm}-${i}`));
    for (const j of jobs) await publishJob(j);
    const signatures = await takeSignatures(jobs.length);
    const certificate = parseCertificate(card.certificateBase64);
    for (const signature of signatures) {
      const signed = jobs.find((j) => j.sessionID === signature.sessionID) as SignJobMessage;
      expect(signature.certNo).toBe(certificate.certNo);
      expect(signature.algorithm).toBe(algorithm === 'RSA' ? 'RSA-SHA1' : 'SM2-SM3');
      expect(signature.signValue).toHaveLength(algorithm === 'RSA' ? 172 : 88);
      expect(verifySignature(certificate, signed.signString, signature.signValue)).toBe(true);
    }
    expect(eport.stats().concurrentViolations).toBe(0);
  });

  it('with a wrong PIN: one PIN attempt at the self-test, then nothing reaches the card and jobs stay queued', async () => {
    const card = SoftCard.create({ algorithm, pin: PIN });
    eport = await startEportSim({ card });
    for (let i = 0; i < 3; i++) await publishJob(job(`pin-${algorithm}-${i}`));
    const running = await start('00000000');
    expect(running.status.state).toBe('paused-for-pin');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stats = eport.stats();
    expect(stats.pinAttempts).toBe(1);
    expect(stats.locked).toBe(false);
    const depth = await channel.checkQueue(Queues.signJobsAny);
    expect(depth.messageCount).toBe(3);
    await running.stop();
    signer = undefined;

    // A person restarts it with the right PIN: the queued jobs are signed.
    await start(PIN);
    const signatures = await takeSignatures(3);
    expect(signatures.map((s) => s.sessionID).sort()).toEqual([0, 1, 2].map((i) => `pin-${algorithm}-${i}`));
  });

  it('dead-letters a job whose string is not a 179 sign string, without touching the card', async () => {
    const card = SoftCard.create({ algorithm, pin: PIN });
    eport = await startEportSim({ card });
    await start(PIN);
    const before = eport.stats().signatures;
    const { mac: _mac, ...unsigned } = job(`bad-${algorithm}`);
    const bad = authenticateSignJob(TEST_SIGN_JOB_KEY, { ...unsigned, signString: '{"sessionID":"x"}' });
    await publishJob(bad);
    const dead = await waitFor(
      'dead letter',
      async () => {
        const message = await channel.get(Queues.deadLetters, { noAck: true });
        return message ? (JSON.parse(message.content.toString()) as SignJobMessage) : undefined;
      },
      10_000,
      50,
    );
    expect(dead.sessionID).toBe(`bad-${algorithm}`);
    expect(eport.stats().signatures).toBe(before);
  });
});
