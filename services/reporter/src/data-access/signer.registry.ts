import type { Redis } from 'ioredis';
import type { SignerHeartbeatMessage } from '@ceb179/contracts';

/** A signer that has not reported for this long is shown as silent (heartbeats come every ~10 s). */
export const SIGNER_SILENT_AFTER_SECONDS = 60;
const KEEP_LAST_SEEN_SECONDS = 30 * 24 * 3600;

export const SignerKeys = {
  lastSeen: 'ceb179:signers:last-seen',
  signer: (signerId: string) => `ceb179:signer:${signerId}`,
  /** certNo -> the card's certificate (base64 DER), kept without expiry so old signatures can be re-verified. */
  certificates: 'ceb179:certificates',
};

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
    if (heartbeat.certNo && heartbeat.certificate) transaction.hset(SignerKeys.certificates, heartbeat.certNo.toLowerCase(), heartbeat.certificate);
    await transaction
      .set(SignerKeys.signer(heartbeat.signerId), JSON.stringify(heartbeat), 'EX', SIGNER_SILENT_AFTER_SECONDS)
      .zadd(SignerKeys.lastSeen, seenAt, heartbeat.signerId)
      .zremrangebyscore(SignerKeys.lastSeen, 0, Date.now() - KEEP_LAST_SEEN_SECONDS * 1000)
      .exec();
  }
}
