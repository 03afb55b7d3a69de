import type { PipelineService } from '@ceb179/harness';
import { STALL_MS } from './plan';

/** What one chaos run does, from CHAOS_* variables and the command line. */
export interface ChaosSettings {
  callbacks: number;
  /** Callbacks per second. */
  rate: number;
  /** Seeds the plan, the payments and the order of the calls: the same seed replays a run. */
  seed: number;
  timeoutS: number;
  stallMs: number;
  /** `--dry-run`: print the plan and stop, touching nothing. */
  dryRun: boolean;
}

/** The services the run SIGKILLs (and keeps running between kills). */
export const CHAOS_SERVICES: readonly PipelineService[] = ['ingress', 'assembler', 'reporter', 'signer-0'];

/** The Redis db of the run: jest workers use 1..maxWorkers, the demo 0. */
export const CHAOS_REDIS_DB = 15;

/** Throws naming the variable and its rule when a value is out of bounds. */
export function readSettings(env: NodeJS.ProcessEnv, argv: readonly string[] = []): ChaosSettings {
  const number = (name: string, fallback: number, check: (n: number) => boolean, rule: string): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!check(value)) throw new Error(`${name}: ${rule}, got "${text}"`);
    return value;
  };
  const unknown = argv.filter((arg) => arg !== '--dry-run');
  if (unknown.length > 0)
    throw new Error(`unknown argument ${unknown.join(' ')} (the only one is --dry-run; settings are CHAOS_* variables)`);
  return {
    callbacks: number('CHAOS_CALLBACKS', 500, (n) => Number.isInteger(n) && n > 0, 'must be a positive integer'),
    rate: number(
      'CHAOS_RATE',
      20,
      (n) => Number.isFinite(n) && n > 0 && n <= 1_000,
      'must be a number of callbacks per second, 0 < rate <= 1000',
    ),
    seed: number(
      'CHAOS_SEED',
      1 + Math.floor(Math.random() * 2_147_483_646),
      (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32,
      'must be an integer 0..2^32-1',
    ),
    timeoutS: number('CHAOS_TIMEOUT_S', 240, (n) => Number.isFinite(n) && n > 0, 'must be a positive number of seconds'),
    stallMs: number('CHAOS_STALL_MS', STALL_MS, (n) => Number.isInteger(n) && n >= 0, 'must be a number of milliseconds'),
    dryRun: argv.includes('--dry-run'),
  };
}

/** How long sending every callback at the configured rate takes. */
export function sendDurationMs(settings: Pick<ChaosSettings, 'callbacks' | 'rate'>): number {
  return (settings.callbacks / settings.rate) * 1_000;
}
