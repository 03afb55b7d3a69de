/**
 * How long a request already past its deadline steps back behind ones that can still make theirs.
 * Bounded, so it is served within about this long however busy the queue stays (no starvation,
 * and no delivery held until RabbitMQ's consumer_timeout takes it back).
 */
export const LATE_STEP_BACK_MS = 120_000;

interface Held<T> {
  item: T;
  deadlineMs: number | undefined;
  arrivedMs: number;
}

/**
 * The deliveries a consumer holds (up to its prefetch) that no handler has started yet, taken
 * earliest deadline first: after an outage the backlog drains so that requests which can still
 * make the two minutes are not queued behind ones that cannot. A request already late is taken as
 * if its deadline were LATE_STEP_BACK_MS later; messages without a deadline keep arrival order.
 *
 * RabbitMQ 3.10 quorum queues have no priorities, so this only orders what one consumer holds;
 * the queue itself is FIFO, i.e. roughly oldest callback first, which is also oldest deadline first.
 */
export class DeadlineOrder<T> {
  private readonly held: Array<Held<T>> = [];

  get size(): number {
    return this.held.length;
  }

  push(item: T, deadlineMs: number | undefined, now = Date.now()): void {
    this.held.push({ item, deadlineMs, arrivedMs: now });
  }

  /** The next to start at `now`, or undefined when none is held. */
  take(now = Date.now()): T | undefined {
    if (this.held.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.held.length; i += 1) {
      if (rank(this.held[i] as Held<T>, now) < rank(this.held[best] as Held<T>, now)) best = i;
    }
    return this.held.splice(best, 1)[0]?.item;
  }

  /** Drops what `keep` refuses (deliveries of a channel that closed: the broker has them back). */
  retain(keep: (item: T) => boolean): void {
    for (let i = this.held.length - 1; i >= 0; i -= 1) if (!keep((this.held[i] as Held<T>).item)) this.held.splice(i, 1);
  }
}

function rank(held: Held<unknown>, now: number): number {
  if (held.deadlineMs === undefined) return held.arrivedMs;
  return held.deadlineMs < now ? held.deadlineMs + LATE_STEP_BACK_MS : held.deadlineMs;
}

/** The `deadline` (ISO text) every ceb179 work message carries in its payload, as epoch ms. */
export function deadlineOf(payload: unknown): number | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const deadline = (payload as { deadline?: unknown }).deadline;
  if (typeof deadline !== 'string') return undefined;
  const ms = Date.parse(deadline);
  return Number.isNaN(ms) ? undefined : ms;
}
