import type { BenchResults, PipelinePhaseFigures, TargetRow } from './report-types';

/**
 * The targets of issue 12, each with what this run measured and whether it is met. Every target
 * is listed even when its section did not run ("not measured"), so the table always has them all.
 */
export const TARGET_IDS = [
  'ingress-vs-raw-publish',
  'ingress-p99-at-1000',
  'overhead-p50-at-50',
  'overhead-p99-at-50',
  'overhead-p99-bursts',
  'signer-zero-ms-card',
  'no-backlog-at-200',
  'cpu-per-callback',
  'signer-vs-serial',
  'signer-scales-with-cards',
  'assembler-flat',
  'memory-per-service',
] as const;

/** Assembler cost at the largest size may be this much above the smallest and still count as flat. */
export const FLAT_TOLERANCE = 1.25;
/** "No backlog": the last upload of the 200/s phase reached customs within this of the last callback. */
export const NO_BACKLOG_DRAIN_MS = 1_000;

const ms = (value: number) => `${value.toFixed(1)} ms`;

export function evaluateTargets(results: Omit<BenchResults, 'targets'>): TargetRow[] {
  const rows: TargetRow[] = [];
  const add = (id: (typeof TARGET_IDS)[number], target: string, measured: string | undefined, met: boolean | undefined) =>
    rows.push({ id, target, measured: measured ?? 'not measured', met: measured === undefined ? undefined : met });

  const ingress = results.ingress;
  const ingressRatio = ingress ? ingress.saturation.rate / ingress.rawPublish.rate : undefined;
  add(
    'ingress-vs-raw-publish',
    'Ingress ≥ 0.5 × raw confirmed publishes/s',
    ingress && ingressRatio !== undefined
      ? `${ingress.saturation.rate.toFixed(0)}/s vs ${ingress.rawPublish.rate.toFixed(0)}/s = ${ingressRatio.toFixed(2)} ×`
      : undefined,
    ingressRatio !== undefined && ingressRatio >= 0.5,
  );
  const at1000 = ingress?.paced.find((p) => p.offeredRate === 1000) ?? ingress?.paced.at(-1);
  add(
    'ingress-p99-at-1000',
    'Ingress p99 ack ≤ 10 ms at 1,000 callbacks/s',
    at1000 ? `${ms(at1000.ack.p99)} at ${at1000.offeredRate}/s` : undefined,
    at1000 !== undefined && at1000.ack.p99 <= 10,
  );

  const pipeline = results.pipeline;
  const paced = pipeline?.phases.filter((p) => p.kind === 'paced') ?? [];
  const slow = paced.find((p) => p.offeredRate === 50) ?? paced[0];
  const fast = paced.find((p) => p.offeredRate === 200) ?? paced.at(-1);
  const burst = pipeline?.phases.find((p) => p.kind === 'burst');
  add(
    'overhead-p50-at-50',
    'Pipeline overhead p50 ≤ 15 ms at 50 callbacks/s paced',
    slow ? `${ms(slow.overhead.p50)} at ${slow.offeredRate}/s` : undefined,
    slow !== undefined && slow.overhead.p50 <= 15,
  );
  add(
    'overhead-p99-at-50',
    'Pipeline overhead p99 ≤ 60 ms at 50 callbacks/s paced',
    slow ? `${ms(slow.overhead.p99)} at ${slow.offeredRate}/s` : undefined,
    slow !== undefined && slow.overhead.p99 <= 60,
  );
  add(
    'overhead-p99-bursts',
    'Pipeline overhead p99 ≤ 250 ms for bursts of 50',
    burst ? `${ms(burst.overhead.p99)} (bursts of ${burst.offeredRate})` : undefined,
    burst !== undefined && burst.overhead.p99 <= 250,
  );

  const signer = results.signer;
  add(
    'signer-zero-ms-card',
    'One signer carries ≥ 500 signatures/s with a 0 ms card',
    signer ? `${signer.zeroLatency.rate.toFixed(0)}/s` : undefined,
    signer !== undefined && signer.zeroLatency.rate >= 500,
  );
  add(
    'no-backlog-at-200',
    `No backlog at 200/s with enough cards (all uploaded ≤ ${NO_BACKLOG_DRAIN_MS / 1000} s after the last callback)`,
    fast && pipeline ? backlogText(fast, pipeline.cards) : undefined,
    fast !== undefined && fast.missing === 0 && fast.drainMs <= NO_BACKLOG_DRAIN_MS,
  );
  const cpu = fast?.cpuMsPerCallback.total;
  add(
    'cpu-per-callback',
    'CPU ≤ 3 ms per callback, the four services together',
    fast && cpu !== undefined ? `${ms(cpu)} at ${fast.offeredRate}/s` : undefined,
    cpu !== undefined && cpu <= 3,
  );

  const one = signer?.runs.find((r) => r.cards === 1);
  add(
    'signer-vs-serial',
    "Signer ≥ 0.97 × the control's serial rate",
    one && signer ? `${one.rate.toFixed(2)}/s vs ${signer.serialRate.toFixed(2)}/s = ${one.vsSerial.toFixed(3)} ×` : undefined,
    one !== undefined && one.vsSerial >= 0.97,
  );
  const more = signer?.runs.filter((r) => r.cards > 1) ?? [];
  const worst = more.reduce<(typeof more)[number] | undefined>((w, r) => (w === undefined || r.vsOneCard < w.vsOneCard ? r : w), undefined);
  add(
    'signer-scales-with-cards',
    'N cards ≥ 0.9·N × one card',
    worst ? more.map((r) => `${r.cards} cards ${r.vsOneCard.toFixed(3)}`).join(', ') : undefined,
    worst !== undefined && worst.vsOneCard >= 0.9,
  );

  const assembler = results.assembler ?? [];
  const smallest = assembler[0];
  const largest = assembler.at(-1);
  const growth = smallest && largest && assembler.length > 1 ? largest.costMsPerRequest / smallest.costMsPerRequest : undefined;
  add(
    'assembler-flat',
    `Assembler cost per request flat from 10k to 1M orders (≤ ${FLAT_TOLERANCE} ×)`,
    growth !== undefined && smallest && largest
      ? `${smallest.costMsPerRequest.toFixed(2)} ms (${smallest.orders}) → ${largest.costMsPerRequest.toFixed(2)} ms (${largest.orders}) = ${growth.toFixed(2)} ×`
      : undefined,
    growth !== undefined && growth <= FLAT_TOLERANCE,
  );

  const peaks = peakResident(results);
  const heaviest = Object.entries(peaks).sort((a, b) => b[1] - a[1])[0];
  add(
    'memory-per-service',
    'Each service ≤ 100 MB resident under load',
    heaviest
      ? Object.entries(peaks)
          .map(([name, mb]) => `${name} ${mb.toFixed(0)}`)
          .join(', ') + ' MB'
      : undefined,
    heaviest !== undefined && heaviest[1] <= 100,
  );
  return rows;
}

function backlogText(phase: PipelinePhaseFigures, cards: number): string {
  const missing = phase.missing ? `, ${phase.missing} not uploaded` : '';
  return `last upload ${(phase.drainMs / 1000).toFixed(2)} s after the last callback (${cards} cards)${missing}`;
}

/** Each service's peak VmRSS under load, across the ingress and pipeline sections (MB). */
export function peakResident(results: Pick<BenchResults, 'ingress' | 'pipeline'>): Record<string, number> {
  const peaks: Record<string, number> = {};
  for (const [name, figures] of Object.entries(results.pipeline?.residentMb ?? {})) peaks[name] = figures.peak;
  if (results.ingress) peaks.ingress = Math.max(peaks.ingress ?? 0, results.ingress.residentMb.peak);
  return peaks;
}
