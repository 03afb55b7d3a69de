import { renderLatencyChart } from './chart';
import { BEGIN_MARKER, END_MARKER, renderMarkdown } from './report';
import type { BenchResults, PipelinePhaseFigures } from './report-types';
import { parseSettings } from './settings';
import { summarize } from './stats';
import { evaluateTargets, TARGET_IDS } from './targets';

const machine = {
  cpu: 'test cpu',
  cores: 2,
  memoryGb: 4,
  os: 'test os',
  kernel: '6',
  node: 'v20',
  rabbitmq: '3',
  postgres: '15',
  redis: '7',
  loadAverage: '0 0 0',
};
const base = { startedAt: '2026-01-01T00:00:00.000Z', smoke: false, durationSeconds: 1, machine, settings: {} };
const latency = (p50: number, p99: number) => ({ count: 100, p50, p99, max: p99, mean: p50 });

function pipelinePhase(
  kind: 'paced' | 'burst',
  rate: number,
  overhead: [number, number],
  drainMs: number,
  cpuTotal: number,
): PipelinePhaseFigures {
  return {
    name: `${kind} ${rate}`,
    kind,
    offeredRate: rate,
    rate,
    accepted: 100,
    notAccepted: 0,
    ack: latency(2, 5),
    uploaded: 100,
    missing: 0,
    overhead: latency(...overhead),
    callbackToAnswered: latency(overhead[0] + 30, overhead[1] + 30),
    customsMs: latency(5, 9),
    hops: {
      toReceived: latency(2, 5),
      receivedToAssembled: latency(3, 6),
      assembledToSigned: latency(25, 40),
      signedToUploaded: latency(8, 12),
    },
    drainMs,
    cpuMsPerCallback: { ingress: 1, assembler: 1, signer: 0.5, reporter: 0.5, total: cpuTotal, 'generator+simulators': 2 },
  };
}

const everything: Omit<BenchResults, 'targets'> = {
  ...base,
  ingress: {
    bareHttp: { rate: 8000, latency: latency(1, 3) },
    rawPublish: { rate: 10000, latency: latency(2, 6) },
    oneConfirm: latency(0.8, 2),
    oneInsert: latency(0.6, 2),
    oneConnection: { name: 'one', offeredRate: undefined, rate: 250, accepted: 500, notAccepted: 0, ack: latency(4, 9) },
    saturation: { name: 'sat', offeredRate: undefined, rate: 6000, accepted: 60000, notAccepted: 0, ack: latency(8, 20) },
    paced: [
      { name: 'p500', offeredRate: 500, rate: 500, accepted: 5000, notAccepted: 0, ack: latency(1.5, 4) },
      { name: 'p1000', offeredRate: 1000, rate: 1000, accepted: 10000, notAccepted: 0, ack: latency(2, 12) },
    ],
    cpuMsPerCallback: 0.5,
    residentMb: { idle: 60, peak: 90 },
  },
  pipeline: {
    cards: 8,
    cardLatencyMs: 20,
    cardMs: 21,
    phases: [
      pipelinePhase('paced', 50, [10, 40], 30, 2.5),
      pipelinePhase('paced', 200, [14, 70], 200, 2.8),
      pipelinePhase('burst', 50, [100, 300], 400, 2.9),
    ],
    residentMb: {
      ingress: { idle: 60, peak: 95 },
      assembler: { idle: 60, peak: 80 },
      signer: { idle: 50, peak: 70 },
      reporter: { idle: 60, peak: 120 },
    },
  },
  signer: {
    cardLatencyMs: 20,
    serialRate: 48,
    runs: [
      { cards: 1, jobs: 250, seconds: 5.3, rate: 47, vsSerial: 47 / 48, vsOneCard: 1, concurrentCalls: 0 },
      { cards: 2, jobs: 500, seconds: 5.4, rate: 92, vsSerial: 92 / 96, vsOneCard: 92 / 94, concurrentCalls: 0 },
      { cards: 4, jobs: 1000, seconds: 6, rate: 160, vsSerial: 160 / 192, vsOneCard: 160 / 188, concurrentCalls: 0 },
    ],
    zeroLatency: { serialRate: 900, rate: 620, jobs: 3000, cpuMsPerSignature: 1.1 },
  },
  assembler: [
    {
      orders: 10_000,
      seedSeconds: 1,
      requests: 2000,
      rate: 400,
      assemblerCpuMsPerRequest: 1,
      postgresCpuMsPerRequest: 0.5,
      costMsPerRequest: 1.5,
    },
    {
      orders: 1_000_000,
      seedSeconds: 60,
      requests: 2000,
      rate: 390,
      assemblerCpuMsPerRequest: 1,
      postgresCpuMsPerRequest: 0.6,
      costMsPerRequest: 1.6,
    },
  ],
};

describe('percentiles', () => {
  it('are nearest-rank over the samples, whatever their order', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
    expect(summarize(samples)).toMatchObject({ count: 100, p50: 50, p99: 99, max: 100, mean: 50.5 });
    expect(summarize([7])).toMatchObject({ p50: 7, p99: 7 });
    expect(Number.isNaN(summarize([]).p50)).toBe(true);
  });
});

describe('bench settings', () => {
  it('default to the full run and write the docs only when every section runs, not in smoke mode', () => {
    expect(parseSettings([], {})).toMatchObject({ smoke: false, write: true, pipeline: { seconds: 60, rates: [50, 200] } });
    expect(parseSettings(['--smoke'], {})).toMatchObject({ smoke: true, write: false, pipeline: { seconds: 3 } });
    expect(parseSettings([], { BENCH_SMOKE: '1' }).write).toBe(false);
    expect(parseSettings(['--only', 'signer'], {})).toMatchObject({ sections: ['signer'], write: false });
    expect(parseSettings(['--no-write'], {}).write).toBe(false);
    expect(parseSettings([], { BENCH_PIPELINE_RATES: '20, 80' }).pipeline.rates).toEqual([20, 80]);
  });

  it('refuse what they do not know, naming it', () => {
    expect(() => parseSettings(['--fast'], {})).toThrow(/unknown argument "--fast"/);
    expect(() => parseSettings(['--only', 'reporter'], {})).toThrow(/unknown section "reporter"/);
    expect(() => parseSettings([], { BENCH_PIPELINE_SECONDS: 'soon' })).toThrow(/BENCH_PIPELINE_SECONDS must be a non-negative number/);
    expect(() => parseSettings([], { BENCH_INGRESS_RATES: '500,0' })).toThrow(/BENCH_INGRESS_RATES/);
  });
});

describe('the targets table', () => {
  it('lists every target of the issue even when nothing was measured', () => {
    const rows = evaluateTargets(base);
    expect(rows.map((r) => r.id)).toEqual([...TARGET_IDS]);
    expect(rows.every((r) => r.measured === 'not measured' && r.met === undefined)).toBe(true);
  });

  it('judges each target from the figures', () => {
    const met = Object.fromEntries(evaluateTargets(everything).map((r) => [r.id, r.met]));
    expect(met).toEqual({
      'ingress-vs-raw-publish': true, // 6000 / 10000
      'ingress-p99-at-1000': false, // 12 ms
      'overhead-p50-at-50': true,
      'overhead-p99-at-50': true,
      'overhead-p99-bursts': false, // 300 ms
      'signer-zero-ms-card': true,
      'no-backlog-at-200': true,
      'cpu-per-callback': true, // 2.8 ms at 200/s
      'signer-vs-serial': true, // 0.979
      'signer-scales-with-cards': false, // 4 cards: 0.851
      'assembler-flat': true,
      'memory-per-service': false, // reporter 120 MB
    });
  });
});

describe('the report', () => {
  it('prints every section and the targets, and nothing that is not a number where a figure belongs', () => {
    const text = renderMarkdown({ ...everything, settings: parseSettings([], {}), targets: evaluateTargets(everything) });
    expect(text).toContain('Settings: ingress 10 s per phase, 50 connections, paced 500, 1000/s; pipeline 60 s per paced rate (50, 200/s)');
    for (const heading of ['### Ingress', '### Pipeline', '### Signer', '### Assembler', '### Targets']) expect(text).toContain(heading);
    expect(text).not.toMatch(/NaN|undefined/);
    expect(text).not.toContain(BEGIN_MARKER);
    expect(text).not.toContain(END_MARKER);
  });

  it('draws latency against load as SVG, both panels, bursts marked apart', () => {
    const svg = renderLatencyChart({ ...everything, targets: [] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('ingress: ack latency');
    expect(svg).toContain('pipeline: overhead per callback');
    expect(svg).toContain('bursts of 50');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(renderLatencyChart({ ...base, targets: [] })).toContain('not measured in this run');
  });
});
