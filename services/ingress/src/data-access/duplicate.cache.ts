import type { Redis } from 'ioredis';
import { RedisKeys } from '@ceb179/contracts';
import { GroupedWrites } from './grouped-writes.batcher';

const TTL_SECONDS = 24 * 3600;

/**
 * Fast answer to "have we recorded this sessionID already?" so a burst of repeated calls does
 * not reach Postgres. Only a hint: Postgres' primary key is the truth. A Redis that is down or
 * slow is skipped (the check gives up after `timeoutMs`), so it can only make a reply slower
 * by that much, never wrong and never late.
 */
export class DuplicateCache {
  private readonly remembered: GroupedWrites;

  /** `rememberLingerMs`: how long a hint may wait to be stored with others in one pipeline (0 = each alone). */
  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs: number,
    rememberLingerMs = 0,
  ) {
    this.remembered = new GroupedWrites(async (sessionIDs) => {
      if (this.redis.status !== 'ready') return;
      await this.redis.pipeline(sessionIDs.map((sessionID) => ['set', RedisKeys.callback(sessionID), '1', 'EX', TTL_SECONDS])).exec();
    }, rememberLingerMs);
  }

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
    this.remembered.add(sessionID).catch(() => {
      // Redis down or slow: the database still deduplicates.
    });
  }
}
