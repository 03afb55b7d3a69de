import type { Random } from './random';

/** Restarts (rabbitmq: stop_app/start_app), and stalls: SIGSTOP for a while, then SIGCONT. */
export type InfraKind = 'rabbitmq' | 'postgres' | 'redis' | 'postgres-stall' | 'redis-stall';

export interface Kill {
  /** Planned moment, ms after the first callback. */
  atMs: number;
  service: string;
  /** How long the service stays dead before it is started again. */
  downMs: number;
}

export interface InfraRestart {
  /** Earliest moment, ms after the first callback; never while another infrastructure restart runs. */
  atMs: number;
  kind: InfraKind;
  /** RabbitMQ: time between stop_app and start_app; a stall: time between SIGSTOP and SIGCONT; else 0. */
  downMs: number;
}

export interface ChaosPlan {
  kills: Kill[];
  infra: InfraRestart[];
}

export interface PlanOptions {
  /** How long the callbacks are being sent. */
  sendMs: number;
  services: readonly string[];
  /** How long Postgres and Redis are each stalled (SIGSTOP); default STALL_MS. */
  stallMs?: number;
}

export const KILL_DOWN_MS = [500, 3_000] as const;
export const RABBIT_DOWN_MS = [5_000, 10_000] as const;
export const STALL_MS = 15_000;

/**
 * What goes wrong, and when, while the callbacks are sent: every service SIGKILLed at least once
 * and the busier run more often (about one kill every 3 s), each restarted after 0.5-3 s; and
 * five infrastructure events in a random order, one in each fifth of the sending time: RabbitMQ
 * stopped 5-10 s, Postgres and Redis restarted, and Postgres and Redis each stalled (SIGSTOP, a hung
 * server that keeps its connections) for `stallMs`. Moments are spread over 5-95 % of it.
 */
export function makePlan(random: Random, options: PlanOptions): ChaosPlan {
  const { sendMs, services } = options;
  const killCount = Math.max(services.length + 2, Math.round(sendMs / 3_000));
  const victims = [...random.shuffle(services)];
  while (victims.length < killCount) victims.push(random.pick(services));
  const kills = victims
    .map((service) => ({
      atMs: Math.round(random.between(0.05, 0.95) * sendMs),
      service,
      downMs: Math.round(random.between(KILL_DOWN_MS[0], KILL_DOWN_MS[1])),
    }))
    .sort((a, b) => a.atMs - b.atMs);

  const kinds = random.shuffle<InfraKind>(['rabbitmq', 'postgres', 'redis', 'postgres-stall', 'redis-stall']);
  const slot = sendMs / kinds.length;
  const infra = kinds.map((kind, i) => ({
    atMs: Math.round(slot * i + random.between(0.1, 0.6) * slot),
    kind,
    downMs: downMsOf(kind, random, options.stallMs ?? STALL_MS),
  }));
  return { kills, infra };
}

function downMsOf(kind: InfraKind, random: Random, stallMs: number): number {
  if (kind === 'rabbitmq') return Math.round(random.between(RABBIT_DOWN_MS[0], RABBIT_DOWN_MS[1]));
  return kind.endsWith('-stall') ? stallMs : 0;
}
