import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds buckets around customs' two-minute deadline (120 s). */
export const DEADLINE_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600];
/** Seconds buckets for customs' wait on our answer (it should be well under a second). */
export const ANSWER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];

/**
 * One registry per service, process metrics included, every series labelled with the service.
 * The metric names of ceb179 are created here and only here, so dashboards, alert rules and
 * tests share one vocabulary (k8s/base/monitoring/ and docs/operations.md use these names).
 */
export class ServiceMetrics {
  readonly registry = new Registry();

  /**
   * `labelSeries: false` leaves the service label off (the signer, whose loopback /metrics is
   * read by people and by monitors on the card PC that know which PC they are asking).
   */
  constructor(
    readonly service: string,
    options: { labelSeries?: boolean } = {},
  ) {
    if (options.labelSeries !== false) this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }

  /** A counter whose value is read at scrape time from a count kept elsewhere (it only grows). */
  counterFrom(name: string, help: string, read: () => number): Counter<string> {
    return new Counter({
      name,
      help,
      registers: [this.registry],
      collect(this: Counter<string>) {
        this.reset();
        this.inc(read());
      },
    });
  }

  /** A gauge whose value is read at scrape time (`collect`), e.g. from the ledger or Redis. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect?: (gauge: Gauge<L>) => Promise<void>): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect
        ? {
            async collect(this: Gauge<L>) {
              await collect(this);
            },
          }
        : {}),
    });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Runs a scrape-time query within a bound: a slow ledger or Redis must not hang /metrics.
 * On failure or time-out the gauge keeps its last values.
 */
export async function bounded<T>(work: () => Promise<T>, timeoutMs = 2_000): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work().catch(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a readiness probe answers within the bound: false on error or time-out. */
export async function answers(probe: () => Promise<unknown>, timeoutMs = 2_000): Promise<boolean> {
  return (await bounded(() => probe().then(() => true), timeoutMs)) === true;
}
