import { DeadlineOrder, deadlineOf, LATE_STEP_BACK_MS } from './deadline-order';

describe('DeadlineOrder', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');

  it('takes the earliest deadline first among requests that can still make theirs', () => {
    const order = new DeadlineOrder<string>();
    order.push('in 90 s', now + 90_000, now);
    order.push('in 10 s', now + 10_000, now);
    order.push('in 50 s', now + 50_000, now);
    expect([order.take(now), order.take(now), order.take(now), order.take(now)]).toEqual(['in 10 s', 'in 50 s', 'in 90 s', undefined]);
  });

  it('puts requests already past their deadline behind those that can still make it, for a bounded time', () => {
    const order = new DeadlineOrder<string>();
    order.push('late by 5 s', now - 5_000, now); // ranks as due in LATE_STEP_BACK_MS - 5 s = 115 s
    order.push('due in 100 s', now + 100_000, now);
    order.push('due in 30 s', now + 30_000, now);
    order.push('late by 60 s', now - 60_000, now); // ranks as due in 60 s
    order.push('due in 119 s', now + 119_000, now);
    expect([order.take(now), order.take(now), order.take(now), order.take(now), order.take(now)]).toEqual([
      'due in 30 s',
      'late by 60 s',
      'due in 100 s',
      'late by 5 s',
      'due in 119 s',
    ]);
    // Never starved: a late one is taken before anything that arrives later than LATE_STEP_BACK_MS minus its lateness.
    order.push('late by 1 s', now - 1_000, now);
    order.push('fresh, due in 120 s', now + LATE_STEP_BACK_MS, now);
    expect(order.take(now)).toBe('late by 1 s');
  });

  it('keeps arrival order for messages without a deadline, and drops what is no longer held', () => {
    const order = new DeadlineOrder<{ id: number; channel: string }>();
    order.push({ id: 1, channel: 'a' }, undefined, now);
    order.push({ id: 2, channel: 'b' }, undefined, now + 1);
    order.push({ id: 3, channel: 'a' }, undefined, now + 2);
    order.retain((item) => item.channel === 'a');
    expect(order.size).toBe(2);
    expect([order.take(now)?.id, order.take(now)?.id]).toEqual([1, 3]);
  });

  it('reads the deadline of a work message payload', () => {
    expect(deadlineOf({ sessionID: 's', deadline: '2026-01-01T00:02:00.000Z' })).toBe(Date.parse('2026-01-01T00:02:00.000Z'));
    expect(deadlineOf({ deadline: 'soon' })).toBeUndefined();
    expect(deadlineOf({ signerId: 'x' })).toBeUndefined();
    expect(deadlineOf('text')).toBeUndefined();
  });
});
