import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as amqp from 'amqplib';
import { Exchanges, Queues } from '@ceb179/contracts';
import { SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import { startServiceProcess, type ServiceProcess } from '@ceb179/harness';
import { declareFedWorkQueue, declareSignJobRouting } from '@ceb179/mq';
import { createTestVhost, TEST_SIGN_JOB_KEY } from '@ceb179/testkit';
import { BENCH_PIN, controlSerialRate, signJob } from './control';
import { cpuMs } from './proc-stats';
import type { SignerFigures, SignerRun } from './report-types';
import type { BenchSettings } from './settings';
import { nowMs, sleep } from './stats';
import { onInterrupt } from './cleanup';
import type { Progress } from './progress';

/**
 * Signers (real processes) against simulated controls: each card's control takes a fixed time per
 * signature, so N cards can at best sign N x the control's serial rate (an ideal client on one
 * socket). The sign jobs are published at once; the time until every verified signature reached
 * ceb179.signatures gives the rate. Then one signer with a 0 ms card: its own cost per signature.
 */
export async function benchSigner(settings: BenchSettings['signer'], progress: Progress): Promise<SignerFigures> {
  progress.step(`signer: the control's serial rate at ${settings.cardLatencyMs} ms per signature`);
  const serialRate = await controlSerialRate(settings.cardLatencyMs, Math.max(10, settings.jobsPerCard));
  progress.done(`control's serial rate: ${serialRate.toFixed(2)} signatures/s`);
  const runs: SignerRun[] = [];
  let oneCardRate: number | undefined;
  for (const cards of settings.cardCounts) {
    progress.step(`signer: ${cards} card(s), ${settings.jobsPerCard * cards} jobs`);
    const run = await signerRun(cards, settings.cardLatencyMs, settings.jobsPerCard * cards);
    if (cards === 1) oneCardRate = run.rate;
    const row: SignerRun = {
      cards,
      jobs: run.jobs,
      seconds: run.seconds,
      rate: run.rate,
      vsSerial: run.rate / (cards * serialRate),
      vsOneCard: oneCardRate === undefined ? Number.NaN : run.rate / (cards * oneCardRate),
      concurrentCalls: run.concurrentCalls,
    };
    runs.push(row);
    progress.done(`${cards} card(s): ${row.rate.toFixed(2)} signatures/s = ${row.vsSerial.toFixed(3)} x ${cards} x serial`);
  }
  progress.step(`signer: one signer, 0 ms card, ${settings.zeroLatencyJobs} jobs`);
  const zeroSerial = await controlSerialRate(0, Math.min(2000, settings.zeroLatencyJobs));
  const zero = await signerRun(1, 0, settings.zeroLatencyJobs);
  progress.done(`0 ms card: ${zero.rate.toFixed(0)} signatures/s (control's serial rate ${zeroSerial.toFixed(0)}/s)`);
  return {
    cardLatencyMs: settings.cardLatencyMs,
    serialRate,
    runs,
    zeroLatency: { serialRate: zeroSerial, rate: zero.rate, jobs: zero.jobs, cpuMsPerSignature: zero.signerCpuMs / zero.jobs },
  };
}

const SIGNATURES_TIMEOUT_MS = 180_000;

async function signerRun(
  cards: number,
  latencyMs: number,
  jobs: number,
): Promise<{ jobs: number; seconds: number; rate: number; concurrentCalls: number; signerCpuMs: number }> {
  const vhost = await createTestVhost();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'ceb179-signer-state-'));
  const eports: EportSim[] = [];
  const signers: ServiceProcess[] = [];
  const release = onInterrupt(async () => {
    await Promise.all(signers.map((s) => s.kill()));
    await vhost.delete();
  });
  const connection = await amqp.connect(vhost.url);
  try {
    // What the assembler and the reporter declare (signers only bind to it).
    const setup = await connection.createChannel();
    await declareSignJobRouting(setup);
    await declareFedWorkQueue(setup, Exchanges.signatures, Queues.signatures);
    await setup.close();
    for (let i = 0; i < cards; i++) {
      const eport = await startEportSim({ card: SoftCard.create({ algorithm: 'RSA', pin: BENCH_PIN }), signLatencyMs: latencyMs });
      eports.push(eport);
      signers.push(
        startServiceProcess(
          'signer',
          {
            CEB179_AMQP_URL: vhost.url,
            CEB179_EPORT_URL: eport.url,
            CEB179_CARD_PIN: BENCH_PIN,
            CEB179_SIGN_JOB_KEY: TEST_SIGN_JOB_KEY,
            CEB179_SIGNER_ID: `bench-${i}`,
            CEB179_SIGNER_HEALTH_PORT: '0',
            CEB179_LOG_LEVEL: 'info',
            CEB179_SIGNER_STATE_DIR: stateDir,
          },
          `bench-signer-${i}`,
        ),
      );
    }
    const channel = await connection.createConfirmChannel();
    // Ready = every signer consumes the catch-all sign-job queue.
    const readyBy = Date.now() + 60_000;
    for (;;) {
      const info = await channel.checkQueue(Queues.signJobsAny);
      if (info.consumerCount >= cards) break;
      if (Date.now() > readyBy) throw new Error(`only ${info.consumerCount} of ${cards} signers consumed sign jobs within 60 s`);
      const exited = signers.find((s) => s.child.exitCode !== null);
      if (exited) throw new Error(`${exited.name} exited (${exited.child.exitCode}):\n${exited.output().slice(-2000)}`);
      await sleep(100);
    }
    const messages = Array.from({ length: jobs }, (_, i) => signJob(`bench-${cards}-${latencyMs}-${i}`));
    let received = 0;
    const done = new Promise<void>((resolve) => {
      void channel.consume(Queues.signatures, (message) => {
        if (!message) return;
        channel.ack(message);
        received += 1;
        if (received === jobs) resolve();
      });
    });
    const pids = signers.map((s) => s.child.pid as number);
    const cpuBefore = pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
    const started = nowMs();
    for (const message of messages)
      channel.publish(Exchanges.signJobs, message.ebpCode, Buffer.from(JSON.stringify(message)), { persistent: true });
    await channel.waitForConfirms();
    await Promise.race([
      done,
      sleep(SIGNATURES_TIMEOUT_MS).then(() => {
        throw new Error(`only ${received} of ${jobs} signatures arrived within ${SIGNATURES_TIMEOUT_MS / 1000} s`);
      }),
    ]);
    const seconds = (nowMs() - started) / 1000;
    const signerCpuMs = pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0) - cpuBefore;
    return {
      jobs,
      seconds,
      rate: jobs / seconds,
      concurrentCalls: eports.reduce((n, e) => n + e.stats().concurrentViolations, 0),
      signerCpuMs,
    };
  } finally {
    await Promise.all(signers.map((s) => s.stop()));
    await Promise.all(eports.map((e) => e.stop()));
    await connection.close().catch(() => undefined);
    await vhost.delete();
    rmSync(stateDir, { recursive: true, force: true });
    release();
  }
}
