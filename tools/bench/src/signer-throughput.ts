import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as amqp from 'amqplib';
import WebSocket from 'ws';
import { authenticateSignJob, Exchanges, Queues, SCHEMA_VERSION, type SignJobMessage } from '@ceb179/contracts';
import { SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import { buildControlRequest, buildPaymentDocument, buildSignString, ControlMethods, parseControlFrame } from '@ceb179/protocol';
import { startServiceProcess, type ServiceProcess } from '@ceb179/harness';
import { createTestVhost, makeFixture, TEST_SIGN_JOB_KEY } from '@ceb179/testkit';

/** The card PC's state folder (PIN refusal memory), fresh for this file. */
const SIGNER_STATE_DIR = mkdtempSync(path.join(tmpdir(), 'ceb179-signer-state-'));

/**
 * `npm run bench:signer` — the signer's throughput against the control's serial rate.
 * Each card gets its own simulated control that takes BENCH_LATENCY_MS per signature (the
 * serial rate is 1000 / latency per card); BENCH_JOBS sign jobs are published at once and the
 * time until every verified signature reached ceb179.signatures is measured, for 1..BENCH_CARDS
 * cards. Prints figures; asserts nothing (speed is measured here, not in tests).
 */
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? '100');
const jobsPerCard = Number(process.env.BENCH_JOBS_PER_CARD ?? '60');
const maxCards = Number(process.env.BENCH_CARDS ?? '3');
const algorithm = (process.env.BENCH_ALGORITHM ?? 'RSA') as 'RSA' | 'SM2';

function signJob(sessionID: string): SignJobMessage {
  const fixture = makeFixture(sessionID);
  const document = buildPaymentDocument({
    source: { payment: fixture.payment, orders: fixture.payment_order, goods: fixture.order_goods },
    guid: '9D55BA71-55DE-41F4-8B50-C36C83B3B419',
  });
  const signString = buildSignString({ sessionID, headJson: document.headJson, listsJson: document.listsJson, serviceTime: String(Date.now()) });
  return authenticateSignJob(TEST_SIGN_JOB_KEY, { v: SCHEMA_VERSION, sessionID, ebpCode: document.ebpCode, signString, deadline: new Date(Date.now() + 120_000).toISOString() });
}

/**
 * The control's serial rate: an ideal client that sends the next sign request the moment the
 * previous reply arrives, on one socket, with nothing else to do.
 */
async function serialRate(jobs: number): Promise<number> {
  const eport = await startEportSim({ card: SoftCard.create({ algorithm, pin: '11112222' }), signLatencyMs: latencyMs });
  const socket = new WebSocket(eport.url);
  const messages = Array.from({ length: jobs }, (_, i) => signJob(`serial-${i}`).signString);
  try {
    await new Promise<void>((resolve) => socket.once('message', () => resolve())); // the greeting
    const started = process.hrtime.bigint();
    for (let i = 0; i < jobs; i++) {
      const reply = new Promise<void>((resolve) => socket.once('message', (data) => {
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
        if (parseControlFrame(text).kind === 'reply') resolve();
      }));
      socket.send(buildControlRequest(i + 1, ControlMethods.signDataAsPem, { inData: messages[i] as string, passwd: '11112222' }));
      await reply;
    }
    return jobs / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    socket.close();
    await eport.stop();
  }
}

async function run(cards: number, serial: number): Promise<{ jobs: number; seconds: number; rate: number; ratio: number; violations: number }> {
  const vhost = await createTestVhost();
  const eports: EportSim[] = [];
  const signers: ServiceProcess[] = [];
  const connection = await amqp.connect(vhost.url);
  try {
    // What the assembler and the reporter declare (signers only bind to it).
    const setup = await connection.createChannel();
    const work = { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 10, 'x-dead-letter-exchange': Exchanges.deadLetters } };
    await setup.assertExchange(Exchanges.deadLetters, 'fanout', { durable: true });
    await setup.assertExchange(Exchanges.signJobsUnrouted, 'fanout', { durable: true });
    await setup.assertExchange(Exchanges.signJobs, 'direct', { durable: true, alternateExchange: Exchanges.signJobsUnrouted });
    await setup.assertQueue(Queues.signJobsAny, work);
    await setup.bindQueue(Queues.signJobsAny, Exchanges.signJobsUnrouted, '');
    await setup.assertExchange(Exchanges.signatures, 'fanout', { durable: true });
    await setup.assertQueue(Queues.signatures, work);
    await setup.bindQueue(Queues.signatures, Exchanges.signatures, '');
    await setup.close();
    for (let i = 0; i < cards; i++) {
      const eport = await startEportSim({ card: SoftCard.create({ algorithm, pin: '11112222' }), signLatencyMs: latencyMs });
      eports.push(eport);
      const signer = startServiceProcess('signer', {
        CEB179_AMQP_URL: vhost.url, CEB179_EPORT_URL: eport.url, CEB179_CARD_PIN: '11112222', CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
        CEB179_SIGNER_ID: `bench-${i}`, CEB179_SIGNER_HEALTH_PORT: '0', CEB179_LOG_LEVEL: 'warn', CEB179_SIGNER_STATE_DIR: SIGNER_STATE_DIR,
      }, `bench-signer-${i}`);
      signers.push(signer);
    }
    // The signers log at warn level: wait until each consumes (its queue has a consumer).
    const channel = await connection.createConfirmChannel();
    for (;;) {
      const info = await channel.checkQueue(Queues.signJobsAny).catch(() => undefined);
      if (info && info.consumerCount >= cards) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const jobs = jobsPerCard * cards;
    const messages = Array.from({ length: jobs }, (_, i) => signJob(`bench-${cards}-${i}`));
    let received = 0;
    const done = new Promise<void>((resolve) => {
      void channel.consume(Queues.signatures, (message) => {
        if (!message) return;
        channel.ack(message);
        received += 1;
        if (received === jobs) resolve();
      });
    });
    const started = process.hrtime.bigint();
    for (const message of messages) channel.publish(Exchanges.signJobs, message.ebpCode, Buffer.from(JSON.stringify(message)), { persistent: true });
    await channel.waitForConfirms();
    await done;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = jobs / seconds;
    const serialRateOfAll = serial * cards;
    return { jobs, seconds, rate, ratio: rate / serialRateOfAll, violations: eports.reduce((n, e) => n + e.stats().concurrentViolations, 0) };
  } finally {
    await Promise.all(signers.map((s) => s.stop()));
    await Promise.all(eports.map((e) => e.stop()));
    await connection.close().catch(() => undefined);
    await vhost.delete();
  }
}

async function main(): Promise<void> {
  const serial = await serialRate(jobsPerCard);
  console.log(`signer throughput: ${algorithm} cards, simulated control waits ${latencyMs} ms per signature, ${jobsPerCard} jobs per card`);
  console.log(`control's serial rate (ideal client, one socket): ${serial.toFixed(2)} signatures/s per card`);
  console.log('cards  jobs  seconds  signatures/s  vs N x serial rate  concurrent calls on a control');
  for (let cards = 1; cards <= maxCards; cards++) {
    const r = await run(cards, serial);
    console.log(`${String(cards).padStart(5)}  ${String(r.jobs).padStart(4)}  ${r.seconds.toFixed(2).padStart(7)}  ${r.rate.toFixed(2).padStart(12)}  ${r.ratio.toFixed(3).padStart(18)}  ${r.violations}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
