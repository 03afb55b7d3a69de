import type { Redis } from 'ioredis';
import { RedisKeys, type SignerHeartbeatMessage } from '@ceb179/contracts';

/** A signer that has not reported for this long is shown as silent (heartbeats come every ~10 s). */
export const SIGNER_SILENT_AFTER_SECONDS = 60;
const KEEP_LAST_SEEN_SECONDS = 30 * 24 * 3600;

/**
 * Where the cloud side keeps what each card PC last said about itself: one key per signer that
 * expires when the heartbeats stop, and a sorted set of when each was last seen, so a signer
 * that went silent is still listed (as silent) instead of disappearing.
 */
export class SignerRegistry {
  constructor(private readonly redis: Redis) {}

  async record(heartbeat: SignerHeartbeatMessage): Promise<void> {
    const seenAt = Date.parse(heartbeat.sentAt) || Date.now();
    const transaction = this.redis.multi();
    if (heartbeat.certNo && heartbeat.certificate)
      transaction.hset(RedisKeys.certificates, heartbeat.certNo.toLowerCase(), heartbeat.certificate);
    await transaction
      .set(RedisKeys.signer(heartbeat.signerId), JSON.stringify(heartbeat), 'EX', SIGNER_SILENT_AFTER_SECONDS)
      .zadd(RedisKeys.signersLastSeen, seenAt, heartbeat.signerId)
      .zremrangebyscore(RedisKeys.signersLastSeen, 0, Date.now() - KEEP_LAST_SEEN_SECONDS * 1000)
      .exec();
  }
}
