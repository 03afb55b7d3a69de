import { SourceRateLimit } from './source-rate-limit.middleware';

describe('per-source rate limit', () => {
  it('lets a burst through, refuses beyond it, refills at the sustained rate, and keeps sources apart', () => {
    let now = 0;
    const limit = new SourceRateLimit({ perSecond: 10, burst: 5, now: () => now });
    const burst = Array.from({ length: 6 }, () => limit.take('203.0.113.7'));
    expect(burst).toEqual([true, true, true, true, true, false]);
    expect(limit.take('198.51.100.1')).toBe(true); // another source has its own bucket
    now += 100; // one call's worth at 10/s
    expect(limit.take('203.0.113.7')).toBe(true);
    expect(limit.take('203.0.113.7')).toBe(false);
  });

  it('never refuses with a limit of 0', () => {
    const limit = new SourceRateLimit({ perSecond: 0, burst: 0 });
    expect(Array.from({ length: 10_000 }, () => limit.take('x')).every(Boolean)).toBe(true);
  });
});
