import { KILL_DOWN_MS, makePlan, RABBIT_DOWN_MS, STALL_MS } from './plan';
import { Random } from './random';

const services = ['ingress', 'assembler', 'reporter', 'signer-0'];

describe('the chaos plan', () => {
  it.each([1, 42, 2_147_483_646])('kills every service at least once and restarts each piece of infrastructure once (seed %i)', (seed) => {
    const plan = makePlan(new Random(seed), { sendMs: 25_000, services });
    expect(new Set(plan.kills.map((k) => k.service))).toEqual(new Set(services));
    expect(plan.kills.length).toBeGreaterThanOrEqual(services.length + 2);
    for (const kill of plan.kills) {
      expect(kill.atMs).toBeGreaterThanOrEqual(0.05 * 25_000);
      expect(kill.atMs).toBeLessThanOrEqual(0.95 * 25_000);
      expect(kill.downMs).toBeGreaterThanOrEqual(KILL_DOWN_MS[0]);
      expect(kill.downMs).toBeLessThanOrEqual(KILL_DOWN_MS[1]);
    }
    expect(plan.kills.map((k) => k.atMs)).toEqual([...plan.kills.map((k) => k.atMs)].sort((a, b) => a - b));
    expect(plan.infra.map((e) => e.kind).sort()).toEqual(['postgres', 'postgres-stall', 'rabbitmq', 'redis', 'redis-stall']);
    // One per fifth of the sending time, in order: never two at the same moment.
    plan.infra.forEach((event, i) => {
      expect(event.atMs).toBeGreaterThanOrEqual((i * 25_000) / 5);
      expect(event.atMs).toBeLessThan(((i + 1) * 25_000) / 5);
    });
    for (const stall of plan.infra.filter((e) => e.kind.endsWith('-stall'))) expect(stall.downMs).toBe(STALL_MS);
    const rabbit = plan.infra.find((e) => e.kind === 'rabbitmq');
    expect(rabbit?.downMs).toBeGreaterThanOrEqual(RABBIT_DOWN_MS[0]);
    expect(rabbit?.downMs).toBeLessThanOrEqual(RABBIT_DOWN_MS[1]);
  });

  it('stalls for the time asked', () => {
    const plan = makePlan(new Random(5), { sendMs: 60_000, services, stallMs: 4_000 });
    expect(plan.infra.filter((e) => e.kind.endsWith('-stall')).map((e) => e.downMs)).toEqual([4_000, 4_000]);
  });

  it('kills more often in a longer run, about once every 3 s', () => {
    expect(makePlan(new Random(7), { sendMs: 75_000, services }).kills).toHaveLength(25);
  });

  it('is the same plan for the same seed', () => {
    expect(makePlan(new Random(99), { sendMs: 30_000, services })).toEqual(makePlan(new Random(99), { sendMs: 30_000, services }));
    expect(makePlan(new Random(99), { sendMs: 30_000, services })).not.toEqual(makePlan(new Random(100), { sendMs: 30_000, services }));
  });
});
