import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@ceb179/logger';
import { sendCustomsReply } from './customs-reply.writer';

export interface RateLimitOptions {
  /** Sustained calls per second per source; 0 = no limit. */
  perSecond: number;
  /** Calls a source may make at once on top of the sustained rate. */
  burst: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Sources remembered at most; beyond it the idlest are forgotten (a flood of addresses cannot exhaust memory). */
const MAX_SOURCES = 50_000;

/**
 * A token bucket per source address (after trust proxy, so behind a load balancer it is the
 * real client). The defaults are far above what customs sends - one call per order query, in
 * bursts of audit calls - so they only stop a flood; a refused caller gets customs' 20000 reply
 * with HTTP 429 and nothing is recorded.
 */
export class SourceRateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Takes one call from the source's bucket; false when it is empty. */
  take(source: string): boolean {
    const { perSecond, burst } = this.options;
    if (perSecond <= 0) return true;
    const now = this.now();
    const capacity = Math.max(1, burst);
    const bucket = this.buckets.get(source) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    // Re-insert so the Map's order is least recently used first.
    this.buckets.delete(source);
    this.buckets.set(source, bucket);
    if (this.buckets.size > MAX_SOURCES) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  middleware(logger: Logger) {
    let lastWarning = 0;
    return (request: Request, response: Response, next: NextFunction): void => {
      const source = request.ip ?? request.socket.remoteAddress ?? '';
      if (this.take(source)) return next();
      if (this.now() - lastWarning > 10_000) {
        lastWarning = this.now();
        logger.warn(
          { source, perSecond: this.options.perSecond, burst: this.options.burst },
          'calls over the per-source rate limit refused (CEB179_INGRESS_RATE_LIMIT_PER_SECOND)',
        );
      }
      sendCustomsReply(response, '20000', 'too many calls from this source address', 429);
    };
  }
}
