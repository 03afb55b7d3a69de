import type { Redis } from 'ioredis';
import { RedisKeys } from '@ceb179/contracts';

const TTL_SECONDS = 24 * 3600;

/**
 * Fast answer to "have we recorded this sessionID already?" so a burst of repeated calls does
 * not reach Postgres. Only a hint: Postgres' primary key is the truth. A Redis that is down or
 * slow is skipped (the check gives up after `timeoutMs`), so it can only make a reply slower
 * by that much, never wrong and never late.
 */
export class DuplicateCache {
  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs: number,
  ) {}

  async seen(sessionID: string): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.redis.exists(RedisKeys.callback(sessionID)).then((n) => n === 1),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.timeoutMs))),
      ]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fire and forget: nobody waits for the hint to be stored. */
  remember(sessionID: string): void {
    if (this.redis.status !== 'ready') return;
    this.redis.set(RedisKeys.callback(sessionID), '1', 'EX', TTL_SECONDS).catch(() => {
      // Redis down or slow: the database still deduplicates.
    });
  }
}
