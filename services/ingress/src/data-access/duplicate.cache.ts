import type { Redis } from 'ioredis';

const TTL_SECONDS = 24 * 3600;

/**
 * Fast answer to "have we recorded this sessionID already?" so a burst of repeated calls does
 * not reach Postgres. Only a hint: Postgres' primary key is the truth, and a Redis outage only
 * makes the check slower, never wrong.
 */
export class DuplicateCache {
  constructor(private readonly redis: Redis) {}

  async seen(sessionID: string): Promise<boolean> {
    try {
      return (await this.redis.exists(key(sessionID))) === 1;
    } catch {
      return false;
    }
  }

  async remember(sessionID: string): Promise<void> {
    try {
      await this.redis.set(key(sessionID), '1', 'EX', TTL_SECONDS);
    } catch {
      // Redis down: the database still deduplicates.
    }
  }
}

function key(sessionID: string): string {
  return `ceb179:callback:${sessionID}`;
}
