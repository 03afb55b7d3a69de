/**
 * Delayed retries go through a few fixed-delay queues (queue-level TTL, dead-lettered back to
 * the work queue). Fixed buckets keep expiry in order: per-message TTLs in one queue would let
 * a long delay at the head hold back shorter ones behind it.
 */
export const DELAY_BUCKETS_MS = [1_000, 3_000, 10_000, 30_000, 120_000] as const;

export function delayBucketFor(delayMs: number): number {
  for (const bucket of DELAY_BUCKETS_MS) if (delayMs <= bucket) return bucket;
  return DELAY_BUCKETS_MS[DELAY_BUCKETS_MS.length - 1] as number;
}

/** Exponential back-off with a cap, used by consumers to pick a retry delay. */
export function backoffMs(attempt: number, baseMs = 1_000, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
}
