import path from 'node:path';
import { PRODUCTION_NODE_OPTIONS, startPipeline, type Pipeline } from '@ceb179/harness';
import { makeFixture } from '@ceb179/testkit';
import { controlSerialRate } from './control';
import { burstSchedule, openLoop, pacedSchedule, type LoadResult } from './load';
import { CpuMeter, PeakMemory, residentNow } from './proc-stats';
import { BENCH_PROCESS, type PipelineFigures, type PipelinePhaseFigures } from './report-types';
import type { BenchSettings } from './settings';
import { sleep, summarize } from './stats';
import { onInterrupt } from './cleanup';
import type { Progress } from './progress';

const FIXTURES = 100;

/**
 * The whole pipeline (tools/harness: every service a real process, both simulators) with a fixed
 * card latency. Per callback: due time -> customs received the upload, minus the card's own time
 * per signature, is what ceb179 adds; the customs simulator's own answer time (the reporter's
 * upload latency in the ledger) is reported beside it, and added back for "callback -> customs answered".
 */
export async function benchPipeline(settings: BenchSettings['pipeline'], progress: Progress): Promise<PipelineFigures> {
  progress.step(`pipeline: the card's own time at ${settings.cardLatencyMs} ms latency (ideal client)`);
  const cardMs =
    1000 / (await controlSerialRate(settings.cardLatencyMs, Math.max(20, Math.round(2000 / Math.max(1, settings.cardLatencyMs)))));
  progress.done(`card's own time per signature: ${cardMs.toFixed(2)} ms`);

  progress.step(`pipeline: starting ingress, assembler, reporter and ${settings.cards} signers (one simulated card each)`);
  const fixtures = Array.from({ length: FIXTURES }, (_, i) => makeFixture(`bench-${i}`));
  const pipeline = await startPipeline({
    cards: Array.from({ length: settings.cards }, () => ({ algorithm: 'RSA' as const, signLatencyMs: settings.cardLatencyMs })),
    fixtures,
    // One load generator is one source address: the per-source limit would refuse most calls.
    extraEnv: {
      CEB179_INGRESS_RATE_LIMIT_PER_SECOND: '0',
      // Each service writes a V8 CPU profile when it stops (summarised by profile-summary.js).
      ...(settings.cpuProfileDir
        ? {
            NODE_OPTIONS: `${PRODUCTION_NODE_OPTIONS} --require ${path.join(__dirname, 'cpu-profile-preload.js')}`,
            BENCH_CPU_PROFILE_DIR: settings.cpuProfileDir,
          }
        : {}),
    },
    logLabel: 'bench',
  });
  const release = onInterrupt(async () => {
    // Interrupted: no graceful drain, just gone; then the database, vhost and simulators.
    await Promise.all(pipeline.services.map((s) => s.kill()));
    await pipeline.stop();
  });
  try {
    const groups = serviceGroups(pipeline, settings.cards);
    // This process: the load generator, the customs simulator and every control simulator (not a service: not in the totals).
    const withBench = { ...groups, [BENCH_PROCESS]: [process.pid] };
    const target = { url: pipeline.ingressUrl, orderNo: (i: number) => `SO-bench-${i % FIXTURES}-1` };
    await sleep(1000);
    const idle = residentNow(groups);
    const memory = new PeakMemory(groups);

    progress.step('pipeline: warming up (20 callbacks)');
    await measurePhase(pipeline, groups, 'warm-up', 'paced', 20, await openLoop(target, pacedSchedule(20, 1)), settings, cardMs, 0);

    const phases: PipelinePhaseFigures[] = [];
    for (const rate of settings.rates) {
      progress.step(`pipeline: paced at ${rate}/s for ${settings.seconds} s`);
      const cpu = new CpuMeter(withBench);
      const schedule = pacedSchedule(rate, settings.seconds);
      const figures = await measurePhase(
        pipeline,
        groups,
        `paced ${rate}/s`,
        'paced',
        rate,
        await openLoop(target, schedule, (text) => progress.done(text)),
        settings,
        cardMs,
        schedule.at(-1) ?? 0,
        cpu,
      );
      phases.push(figures);
      report(progress, figures);
    }
    progress.step(`pipeline: bursts of ${settings.burstSize} every second for ${settings.burstSeconds} s`);
    const cpu = new CpuMeter(withBench);
    const schedule = burstSchedule(settings.burstSize, settings.burstSeconds);
    const burst = await measurePhase(
      pipeline,
      groups,
      `bursts of ${settings.burstSize}`,
      'burst',
      settings.burstSize,
      await openLoop(target, schedule, (text) => progress.done(text)),
      settings,
      cardMs,
      schedule.at(-1) ?? 0,
      cpu,
    );
    phases.push(burst);
    report(progress, burst);

    const peak = memory.stop();
    const residentMb = Object.fromEntries(Object.keys(groups).map((name) => [name, { idle: idle[name] ?? 0, peak: peak[name] ?? 0 }]));
    return { cards: settings.cards, cardLatencyMs: settings.cardLatencyMs, cardMs, phases, residentMb };
  } finally {
    progress.step('pipeline: stopping (database and vhost dropped)');
    await pipeline.stop();
    release();
  }
}

function report(progress: Progress, f: PipelinePhaseFigures): void {
  progress.done(
    `pipeline ${f.name}: ack p50 ${f.ack.p50.toFixed(1)} ms p99 ${f.ack.p99.toFixed(1)} ms; overhead p50 ${f.overhead.p50.toFixed(1)} ms p99 ${f.overhead.p99.toFixed(1)} ms; ` +
      `${f.uploaded}/${f.accepted} uploaded, drained ${f.drainMs.toFixed(0)} ms after the last callback`,
  );
}

/** Each service's processes (all signers together) by name. */
function serviceGroups(pipeline: Pipeline, cards: number): Record<string, number[]> {
  const pid = (name: Parameters<Pipeline['current']>[0]) => pipeline.current(name)?.child.pid as number;
  return {
    ingress: [pid('ingress')],
    assembler: [pid('assembler')],
    signer: Array.from({ length: cards }, (_, i) => pid(`signer-${i}`)),
    reporter: [pid('reporter')],
  };
}

interface LedgerTimes {
  session_id: string;
  received: string | null;
  assembled: string | null;
  signed: string | null;
  uploaded: string | null;
  customs_ms: number | null;
}

async function measurePhase(
  pipeline: Pipeline,
  groups: Record<string, number[]>,
  name: string,
  kind: 'paced' | 'burst',
  rate: number,
  run: LoadResult,
  settings: BenchSettings['pipeline'],
  cardMs: number,
  lastDueOffsetMs: number,
  cpu?: CpuMeter,
): Promise<PipelinePhaseFigures> {
  if (run.accepted === 0) throw new Error(`pipeline ${name}: no callback was accepted (${run.firstProblem ?? 'no answer'})`);
  const acked = run.calls.filter((c) => c.ackMs !== undefined);
  const firstSent = Math.min(...run.calls.map((c) => c.sentAt));
  const lastDue = firstSent + lastDueOffsetMs;
  // Wait until customs holds every accepted callback's upload, or the drain time runs out.
  const drainEnd = Date.now() + settings.drainSeconds * 1000;
  let accepted = pipeline.customs.accepted();
  while (acked.some((c) => !accepted.has(c.sessionID)) && Date.now() < drainEnd) {
    await sleep(100);
    accepted = pipeline.customs.accepted();
  }
  const used = cpu?.used() ?? {};
  const { rows } = await pipeline.pool.query<LedgerTimes>(
    `SELECT session_id,
            extract(epoch FROM received_at) * 1000 AS received, extract(epoch FROM assembled_at) * 1000 AS assembled,
            extract(epoch FROM signed_at) * 1000 AS signed, extract(epoch FROM uploaded_at) * 1000 AS uploaded,
            (SELECT latency_ms FROM ceb179.upload_attempt a WHERE a.session_id = r.session_id AND a.outcome = 'accepted'
              ORDER BY a.id DESC LIMIT 1) AS customs_ms
       FROM ceb179.request r WHERE session_id = ANY($1)`,
    [acked.map((c) => c.sessionID)],
  );
  const ledger = new Map(rows.map((row) => [row.session_id, row]));
  const overhead: number[] = [];
  const total: number[] = [];
  const customsMs: number[] = [];
  const hops = {
    toReceived: [] as number[],
    receivedToAssembled: [] as number[],
    assembledToSigned: [] as number[],
    signedToUploaded: [] as number[],
  };
  let lastUpload = lastDue;
  for (const call of acked) {
    const upload = accepted.get(call.sessionID);
    const row = ledger.get(call.sessionID);
    if (!upload) continue;
    const atCustoms = upload.receivedAt.getTime();
    lastUpload = Math.max(lastUpload, atCustoms);
    overhead.push(atCustoms - call.sentAt - cardMs);
    const answer = row?.customs_ms ?? undefined;
    if (answer !== undefined) {
      customsMs.push(answer);
      total.push(atCustoms - call.sentAt + answer);
    }
    if (row?.received && row.assembled && row.signed && row.uploaded) {
      hops.toReceived.push(Number(row.received) - call.sentAt);
      hops.receivedToAssembled.push(Number(row.assembled) - Number(row.received));
      hops.assembledToSigned.push(Number(row.signed) - Number(row.assembled));
      hops.signedToUploaded.push(Number(row.uploaded) - Number(row.signed));
    }
  }
  const cpuMsPerCallback: Record<string, number> = {};
  for (const group of Object.keys(groups)) cpuMsPerCallback[group] = (used[group] ?? 0) / run.accepted;
  cpuMsPerCallback.total = Object.keys(groups).reduce((sum, group) => sum + (cpuMsPerCallback[group] ?? 0), 0);
  if (used[BENCH_PROCESS] !== undefined) cpuMsPerCallback[BENCH_PROCESS] = used[BENCH_PROCESS] / run.accepted;
  return {
    name,
    kind,
    offeredRate: rate,
    rate: run.rate,
    accepted: run.accepted,
    notAccepted: run.refused + run.failed,
    ack: run.latency,
    uploaded: overhead.length,
    missing: acked.length - overhead.length,
    overhead: summarize(overhead),
    callbackToAnswered: summarize(total),
    customsMs: summarize(customsMs),
    hops: {
      toReceived: summarize(hops.toReceived),
      receivedToAssembled: summarize(hops.receivedToAssembled),
      assembledToSigned: summarize(hops.assembledToSigned),
      signedToUploaded: summarize(hops.signedToUploaded),
    },
    drainMs: lastUpload - lastDue,
    cpuMsPerCallback,
  };
}
