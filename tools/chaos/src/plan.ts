import type { Random } from './random';

export type InfraKind = 'rabbitmq' | 'postgres' | 'redis';

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
  /** RabbitMQ only: time between stop_app and start_app. */
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
}

export const KILL_DOWN_MS = [500, 3_000] as const;
export const RABBIT_DOWN_MS = [5_000, 10_000] as const;

/**
 * What goes wrong, and when, while the callbacks are sent: every service SIGKILLed at least once
 * and the busier run more often (about one kill every 3 s), each restarted after 0.5-3 s; and
 * RabbitMQ (down 5-10 s), Postgres and Redis restarted once each, in a random order, one in each
 * third of the sending time. Moments are spread over 5-95 % of it.
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

  const kinds = random.shuffle<InfraKind>(['rabbitmq', 'postgres', 'redis']);
  const third = sendMs / 3;
  const infra = kinds.map((kind, i) => ({
    atMs: Math.round(third * i + random.between(0.1, 0.6) * third),
    kind,
    downMs: kind === 'rabbitmq' ? Math.round(random.between(RABBIT_DOWN_MS[0], RABBIT_DOWN_MS[1])) : 0,
  }));
  return { kills, infra };
}
