import { spawn } from 'node:child_process';
import path from 'node:path';
import * as amqp from 'amqplib';
import { Pool } from 'pg';
import { Exchanges, SCHEMA_VERSION, type CallbackMessage } from '@ceb179/contracts';
import { migrate } from '@ceb179/db';
import { startServiceProcess, waitForOutput } from '@ceb179/harness';
import { declareCallbackConsumption, workQueueArguments } from '@ceb179/mq';
import { createTestDatabase, createTestVhost, freePort, testRedisUrl } from '@ceb179/testkit';
import { openLoop, pacedSchedule, saturate, type LoadResult } from './load';
import { CpuMeter, PeakMemory, residentMb } from './proc-stats';
import type { IngressFigures, PhaseFigures } from './report-types';
import type { BenchSettings } from './settings';
import { nowMs, summarize, type LatencySummary } from './stats';
import { onInterrupt } from './cleanup';
import type { Progress } from './progress';

/**
 * Ingress alone, as a real process, with nothing consuming behind it (the callbacks queue is
 * declared and bound, as the assembler would, and only fills up), next to two ceilings measured
 * now on the same machine: a bare node:http server and raw confirmed publishes to a quorum queue.
 */
export async function benchIngress(settings: BenchSettings['ingress'], progress: Progress): Promise<IngressFigures> {
  const bareHttp = await bareHttpCeiling(settings, progress);
  const rawPublish = await rawPublishCeiling(settings.connections, settings.seconds, progress);
  const oneConfirm = await rawPublishCeiling(1, Math.min(3, settings.seconds), progress);

  const db = await createTestDatabase();
  const vhost = await createTestVhost();
  let ingress: ReturnType<typeof startServiceProcess> | undefined;
  const release = onInterrupt(async () => {
    await ingress?.kill();
    await Promise.allSettled([db.drop(), vhost.delete()]);
  });
  try {
    const pool = new Pool({ connectionString: db.url, max: 1 });
    let oneInsert: LatencySummary;
    try {
      await migrate(pool);
      oneInsert = await postgresInsertCeiling(pool, Math.min(3, settings.seconds), progress);
    } finally {
      await pool.end();
    }
    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createChannel();
      await declareCallbackConsumption(channel);
      await channel.close();
    } finally {
      await connection.close();
    }
    const port = await freePort();
    ingress = startServiceProcess(
      'ingress',
      {
        CEB179_AMQP_URL: vhost.url,
        CEB179_DATABASE_URL: db.url,
        CEB179_REDIS_URL: testRedisUrl(),
        CEB179_INGRESS_PORT: String(port),
        CEB179_INGRESS_HEALTH_PORT: '0',
        CEB179_METRICS_PORT: '0',
        // One load generator is one source address: the per-source limit would refuse most calls.
        CEB179_INGRESS_RATE_LIMIT_PER_SECOND: '0',
        CEB179_LOG_LEVEL: 'info',
      },
      'bench-ingress',
    );
    await waitForOutput(ingress, 'ingress started');
    const pid = ingress.child.pid as number;
    const target = { url: `http://127.0.0.1:${port}/platDataOpen`, orderNo: (i: number) => `SO-bench-${i % 1000}` };
    const idle = residentMb(pid) ?? 0;
    const memory = new PeakMemory({ ingress: [pid] });
    let callbacks = 0;

    progress.step('ingress: warming up');
    await saturate(target, 4, Math.min(2, settings.seconds));
    progress.step('ingress: one call at a time');
    const oneConnection = phase('one connection', undefined, await saturate(target, 1, Math.min(5, settings.seconds)));
    progress.step(`ingress: ${settings.connections} connections for ${settings.seconds} s`);
    const saturationRun = await saturate(target, settings.connections, settings.seconds);
    const saturation = phase(`${settings.connections} connections`, undefined, saturationRun);
    progress.done(
      `ingress saturated: ${saturation.rate.toFixed(0)} callbacks/s, ack p50 ${saturation.ack.p50.toFixed(1)} ms p99 ${saturation.ack.p99.toFixed(1)} ms`,
    );
    const paced: PhaseFigures[] = [];
    const pacedCpu = new CpuMeter({ ingress: [pid] });
    for (const rate of settings.rates) {
      progress.step(`ingress: paced at ${rate}/s for ${settings.seconds} s`);
      const run = await openLoop(target, pacedSchedule(rate, settings.seconds), (text) => progress.done(text));
      callbacks += run.accepted;
      const figures = phase(`paced ${rate}/s`, rate, run);
      paced.push(figures);
      progress.done(
        `ingress paced ${rate}/s: ack p50 ${figures.ack.p50.toFixed(1)} ms p99 ${figures.ack.p99.toFixed(1)} ms, ${figures.notAccepted} not accepted`,
      );
    }
    const cpuMsPerCallback = (pacedCpu.used().ingress ?? 0) / Math.max(1, callbacks);
    return {
      bareHttp,
      rawPublish,
      oneConfirm: oneConfirm.latency,
      oneInsert,
      oneConnection,
      saturation,
      paced,
      cpuMsPerCallback,
      residentMb: { idle, peak: memory.stop().ingress ?? 0 },
    };
  } finally {
    await ingress?.stop();
    await Promise.allSettled([db.drop(), vhost.delete()]);
    release();
  }
}

/**
 * What one callback cannot do faster than: a single-row insert and commit on the same Postgres,
 * one at a time (into a table of the ledger's shape, not the ledger).
 */
async function postgresInsertCeiling(pool: Pool, seconds: number, progress: Progress): Promise<LatencySummary> {
  progress.step(`ceiling: Postgres insert + commit, one at a time for ${seconds} s`);
  await pool.query('CREATE TABLE bench_insert (LIKE ceb179.request INCLUDING DEFAULTS INCLUDING INDEXES)');
  const latencies: number[] = [];
  const endAt = nowMs() + seconds * 1000;
  for (let i = 0; nowMs() < endAt; i++) {
    const started = nowMs();
    await pool.query(`INSERT INTO bench_insert (session_id, order_no, deadline_at) VALUES ($1, $2, now() + interval '120 seconds')`, [
      `bench${i}`,
      `SO-bench-${i}`,
    ]);
    latencies.push(nowMs() - started);
  }
  await pool.query('DROP TABLE bench_insert');
  const summary = summarize(latencies);
  progress.done(`ceiling, Postgres insert + commit: p50 ${summary.p50.toFixed(2)} ms`);
  return summary;
}

function phase(name: string, offeredRate: number | undefined, run: LoadResult): PhaseFigures {
  if (run.accepted === 0) throw new Error(`ingress ${name}: no call was accepted (${run.firstProblem ?? 'no answer'})`);
  return { name, offeredRate, rate: run.rate, accepted: run.accepted, notAccepted: run.refused + run.failed, ack: run.latency };
}

async function bareHttpCeiling(settings: BenchSettings['ingress'], progress: Progress): Promise<{ rate: number; latency: LatencySummary }> {
  progress.step(`ceiling: bare node:http, ${settings.connections} connections for ${settings.seconds} s`);
  const child = spawn(process.execPath, [path.join(__dirname, 'bare-http-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const release = onInterrupt(async () => child.kill('SIGKILL'));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the bare http server exited (${code})`)));
      child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
    });
    const target = { url: `http://127.0.0.1:${port}/platDataOpen`, orderNo: (i: number) => `SO-bench-${i}` };
    await saturate(target, 4, Math.min(1, settings.seconds));
    const run = await saturate(target, settings.connections, settings.seconds);
    progress.done(`ceiling, bare node:http: ${run.rate.toFixed(0)} req/s`);
    return { rate: run.rate, latency: run.latency };
  } finally {
    child.kill('SIGTERM');
    release();
  }
}

/**
 * Raw amqplib: persistent messages the size of a callback message, confirmed, through a fanout
 * exchange into a quorum queue with the work queues' arguments, with as many publishes in flight
 * as ingress has connections.
 */
async function rawPublishCeiling(
  inFlight: number,
  seconds: number,
  progress: Progress,
): Promise<{ rate: number; latency: LatencySummary }> {
  progress.step(`ceiling: raw confirmed publishes to a quorum queue, ${inFlight} in flight for ${seconds} s`);
  const vhost = await createTestVhost();
  const release = onInterrupt(() => vhost.delete());
  try {
    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertExchange(Exchanges.deadLetters, 'fanout', { durable: true });
      await channel.assertExchange('bench.x.raw', 'fanout', { durable: true });
      await channel.assertQueue('bench.raw', { durable: true, arguments: workQueueArguments() });
      await channel.bindQueue('bench.raw', 'bench.x.raw', '');
      const publish = (i: number) =>
        new Promise<void>((resolve, reject) => {
          const message: CallbackMessage = {
            v: SCHEMA_VERSION,
            sessionID: `bench${String(i).padStart(27, '0')}`,
            orderNo: `SO-bench-${i % 1000}`,
            customsServiceTime: String(Date.now()),
            receivedAt: new Date().toISOString(),
            deadline: new Date(Date.now() + 120_000).toISOString(),
          };
          channel.publish(
            'bench.x.raw',
            '',
            Buffer.from(JSON.stringify(message)),
            { persistent: true, mandatory: true, contentType: 'application/json' },
            (error: unknown) =>
              error ? reject(error instanceof Error ? error : new Error('the broker refused a confirmed publish')) : resolve(),
          );
        });
      const latencies: number[] = [];
      let i = 0;
      const started = nowMs();
      const endAt = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (nowMs() < endAt) {
            const sent = nowMs();
            await publish(i++);
            latencies.push(nowMs() - sent);
          }
        }),
      );
      const rate = latencies.length / ((nowMs() - started) / 1000);
      progress.done(
        `ceiling, raw confirmed publishes, ${inFlight} in flight: ${rate.toFixed(0)}/s, p50 ${summarize(latencies).p50.toFixed(2)} ms`,
      );
      await channel.close();
      return { rate, latency: summarize(latencies) };
    } finally {
      await connection.close().catch(() => undefined);
    }
  } finally {
    await vhost.delete();
    release();
  }
}
