import path from 'node:path';

/**
 * Every duration, rate and size of `npm run bench`, from flags and BENCH_* variables. The
 * defaults are the full run (about ten minutes on a 2-core machine); --smoke (BENCH_SMOKE=1)
 * shrinks each section to a few seconds so CI can check the instrument still works.
 */
export type SectionName = 'ingress' | 'pipeline' | 'signer' | 'assembler';
export const SECTIONS: readonly SectionName[] = ['ingress', 'pipeline', 'signer', 'assembler'];

export interface BenchSettings {
  smoke: boolean;
  /** false: leave docs/benchmarks.md and the chart alone. */
  write: boolean;
  /** Also write the results as JSON here (the smoke test reads them). */
  jsonPath: string | undefined;
  sections: SectionName[];
  ingress: { seconds: number; connections: number; rates: number[] };
  pipeline: {
    seconds: number;
    rates: number[];
    burstSize: number;
    burstSeconds: number;
    cards: number;
    cardLatencyMs: number;
    /** How long after a phase's last callback its uploads may still arrive before they count as lost. */
    drainSeconds: number;
    /** Where the pipeline's services write V8 CPU profiles (--cpu-prof), or undefined for none. */
    cpuProfileDir: string | undefined;
  };
  signer: { cardLatencyMs: number; jobsPerCard: number; cardCounts: number[]; zeroLatencyJobs: number };
  assembler: { orderCounts: number[]; requests: number };
}

type Env = Record<string, string | undefined>;

function numberFrom(env: Env, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${text}"`);
  return value;
}

function listFrom(env: Env, name: string, fallback: number[]): number[] {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new Error(`${name} must be a comma list of positive numbers, got "${text}"`);
  }
  return values;
}

export const USAGE = `usage: npm run bench -- [--smoke] [--no-write] [--json <file>] [--only ingress,pipeline,signer,assembler]

  --smoke      every section for a few seconds (also BENCH_SMOKE=1); writes no docs
  --no-write   print only; leave docs/benchmarks.md and docs/benchmarks-latency.svg alone
  --json FILE  also write every figure as JSON to FILE (also BENCH_JSON)
  --only LIST  run only these sections (also BENCH_SECTIONS); the docs are then not written
  --cpu-prof DIR  the pipeline's services write V8 CPU profiles into DIR when they stop (also
               BENCH_CPU_PROFILE_DIR); node tools/bench/dist/profile-summary.js DIR/*.cpuprofile

Settings (environment; full-run default / smoke default):
  BENCH_INGRESS_SECONDS (10/2)  BENCH_INGRESS_CONNECTIONS (50)  BENCH_INGRESS_RATES (500,1000)
  BENCH_PIPELINE_SECONDS (60/3) BENCH_PIPELINE_RATES (50,200)   BENCH_BURST_SIZE (50)
  BENCH_BURST_SECONDS (30/3)    BENCH_PIPELINE_CARDS (8/2)      BENCH_CARD_LATENCY_MS (20)
  BENCH_DRAIN_SECONDS (60/20)   BENCH_SIGNER_JOBS_PER_CARD (250/20)  BENCH_SIGNER_CARDS (1,2,4)
  BENCH_SIGNER_ZERO_LATENCY_JOBS (3000/200)  BENCH_ASSEMBLER_ORDERS (10000,1000000 / 1000,10000)
  BENCH_ASSEMBLER_REQUESTS (2000/100)`;

export function parseSettings(argv: string[], env: Env): BenchSettings {
  let smoke = env.BENCH_SMOKE === '1' || env.BENCH_SMOKE === 'true';
  let write = true;
  let jsonPath = env.BENCH_JSON || undefined;
  let only = env.BENCH_SECTIONS || undefined;
  let cpuProfileDir = env.BENCH_CPU_PROFILE_DIR || undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--smoke') smoke = true;
    else if (arg === '--no-write') write = false;
    else if (arg === '--json') jsonPath = argv[++i];
    else if (arg === '--only') only = argv[++i];
    else if (arg === '--cpu-prof') cpuProfileDir = argv[++i];
    else if (arg === '--help' || arg === '-h') throw new UsageRequested();
    else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (jsonPath === undefined && argv.includes('--json')) throw new Error('--json needs a file name');
  if (cpuProfileDir === undefined && argv.includes('--cpu-prof')) throw new Error('--cpu-prof needs a folder');
  const sections = only === undefined ? [...SECTIONS] : only.split(',').map((s) => s.trim());
  for (const section of sections) {
    if (!SECTIONS.includes(section as SectionName)) throw new Error(`unknown section "${section}" (known: ${SECTIONS.join(', ')})`);
  }
  const pick = (full: number, quick: number) => (smoke ? quick : full);
  const cardLatencyMs = numberFrom(env, 'BENCH_CARD_LATENCY_MS', 20);
  return {
    smoke,
    // A partial or smoke run must not overwrite the full report with holes or meaningless figures.
    write: write && !smoke && sections.length === SECTIONS.length,
    jsonPath,
    sections: sections as SectionName[],
    ingress: {
      seconds: numberFrom(env, 'BENCH_INGRESS_SECONDS', pick(10, 2)),
      connections: numberFrom(env, 'BENCH_INGRESS_CONNECTIONS', 50),
      rates: listFrom(env, 'BENCH_INGRESS_RATES', [500, 1000]),
    },
    pipeline: {
      seconds: numberFrom(env, 'BENCH_PIPELINE_SECONDS', pick(60, 3)),
      rates: listFrom(env, 'BENCH_PIPELINE_RATES', [50, 200]),
      burstSize: numberFrom(env, 'BENCH_BURST_SIZE', 50),
      burstSeconds: numberFrom(env, 'BENCH_BURST_SECONDS', pick(30, 3)),
      cards: numberFrom(env, 'BENCH_PIPELINE_CARDS', pick(8, 2)),
      cardLatencyMs,
      drainSeconds: numberFrom(env, 'BENCH_DRAIN_SECONDS', pick(60, 20)),
      cpuProfileDir: cpuProfileDir === undefined ? undefined : path.resolve(cpuProfileDir),
    },
    signer: {
      cardLatencyMs,
      jobsPerCard: numberFrom(env, 'BENCH_SIGNER_JOBS_PER_CARD', pick(250, 20)),
      cardCounts: listFrom(env, 'BENCH_SIGNER_CARDS', [1, 2, 4]),
      zeroLatencyJobs: numberFrom(env, 'BENCH_SIGNER_ZERO_LATENCY_JOBS', pick(3000, 200)),
    },
    assembler: {
      orderCounts: listFrom(env, 'BENCH_ASSEMBLER_ORDERS', smoke ? [1_000, 10_000] : [10_000, 1_000_000]),
      requests: numberFrom(env, 'BENCH_ASSEMBLER_REQUESTS', pick(2000, 100)),
    },
  };
}

export class UsageRequested extends Error {
  constructor() {
    super(USAGE);
  }
}
