import type { LatencySummary } from './stats';

/** Every figure of one `npm run bench` run, as printed, written to docs and (with --json) to a file. */
export interface PhaseFigures {
  name: string;
  /** Offered (paced) or achieved (saturation) callbacks per second. */
  offeredRate: number | undefined;
  rate: number;
  accepted: number;
  notAccepted: number;
  ack: LatencySummary;
}

export interface IngressFigures {
  bareHttp: { rate: number; latency: LatencySummary };
  rawPublish: { rate: number; latency: LatencySummary };
  /** One confirmed publish at a time, and one Postgres insert + commit at a time: a callback's floor. */
  oneConfirm: LatencySummary;
  oneInsert: LatencySummary;
  oneConnection: PhaseFigures;
  saturation: PhaseFigures;
  paced: PhaseFigures[];
  cpuMsPerCallback: number;
  residentMb: { idle: number; peak: number };
}

/** The bench's own process in the CPU figures: load generator, customs and control simulators (not a service). */
export const BENCH_PROCESS = 'generator+simulators';

export interface PipelinePhaseFigures extends PhaseFigures {
  kind: 'paced' | 'burst';
  uploaded: number;
  /** Uploaded callbacks not yet uploaded when the drain time ran out. */
  missing: number;
  overhead: LatencySummary;
  callbackToAnswered: LatencySummary;
  customsMs: LatencySummary;
  hops: {
    toReceived: LatencySummary;
    receivedToAssembled: LatencySummary;
    assembledToSigned: LatencySummary;
    signedToUploaded: LatencySummary;
  };
  /** From the phase's last due callback to the last upload customs received. */
  drainMs: number;
  cpuMsPerCallback: Record<string, number>;
}

export interface PipelineFigures {
  cards: number;
  cardLatencyMs: number;
  /** The card's own time per signature: an ideal client's serial time at that latency. */
  cardMs: number;
  phases: PipelinePhaseFigures[];
  residentMb: Record<string, { idle: number; peak: number }>;
}

export interface SignerRun {
  cards: number;
  jobs: number;
  seconds: number;
  rate: number;
  /** rate / (cards x the control's serial rate). */
  vsSerial: number;
  /** rate / (cards x the one-card rate). */
  vsOneCard: number;
  concurrentCalls: number;
}

export interface SignerFigures {
  cardLatencyMs: number;
  serialRate: number;
  runs: SignerRun[];
  zeroLatency: { serialRate: number; rate: number; jobs: number; cpuMsPerSignature: number };
}

export interface AssemblerRun {
  orders: number;
  seedSeconds: number;
  requests: number;
  rate: number;
  assemblerCpuMsPerRequest: number;
  postgresCpuMsPerRequest: number;
  costMsPerRequest: number;
}

export interface MachineFigures {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  kernel: string;
  node: string;
  rabbitmq: string;
  postgres: string;
  redis: string;
  loadAverage: string;
}

export interface TargetRow {
  id: string;
  target: string;
  measured: string;
  met: boolean | undefined;
}

export interface BenchResults {
  startedAt: string;
  smoke: boolean;
  durationSeconds: number;
  machine: MachineFigures;
  settings: unknown;
  ingress?: IngressFigures;
  pipeline?: PipelineFigures;
  signer?: SignerFigures;
  assembler?: AssemblerRun[];
  targets: TargetRow[];
}
