import type { Redis } from 'ioredis';
import { RedisKeys, type SignerHeartbeatMessage } from '@ceb179/contracts';

/** What a signer last said in its heartbeat, as an operator is shown it. */
export interface SignerCard extends Pick<
  SignerHeartbeatMessage,
  'signerId' | 'reason' | 'certNo' | 'algorithm' | 'notAfter' | 'daysLeft' | 'lastSuccessAt' | 'ebpCodes'
> {
  lastSeenAt: string;
  /** No heartbeat within the last minute: the card PC is off, or its signer or link is down. */
  silent: boolean;
  /** The heartbeat's state; 'silent' without one, 'unknown' when it carried none. */
  state: string;
  signatures: number | null;
}

/** Every signer that reported within the last 30 days, most recently seen first. */
export async function readSigners(redis: Redis, limit = 100): Promise<SignerCard[]> {
  const ids = await redis.zrevrange(RedisKeys.signersLastSeen, 0, limit - 1, 'WITHSCORES');
  const cards: SignerCard[] = [];
  for (let i = 0; i < ids.length; i += 2) {
    const signerId = ids[i] as string;
    const lastSeenAt = new Date(Number(ids[i + 1])).toISOString();
    const raw = await redis.get(RedisKeys.signer(signerId));
    if (!raw) {
      cards.push({
        signerId,
        lastSeenAt,
        silent: true,
        state: 'silent',
        reason: 'no heartbeat: is the card PC on and the signer service running?',
        certNo: null,
        algorithm: null,
        notAfter: null,
        daysLeft: null,
        lastSuccessAt: null,
        ebpCodes: [],
        signatures: null,
      });
      continue;
    }
    const h = JSON.parse(raw) as Partial<SignerHeartbeatMessage>;
    cards.push({
      signerId,
      lastSeenAt,
      silent: false,
      state: h.state ?? 'unknown',
      reason: h.reason ?? '',
      certNo: h.certNo ?? null,
      algorithm: h.algorithm ?? null,
      notAfter: h.notAfter ?? null,
      daysLeft: h.daysLeft ?? null,
      lastSuccessAt: h.lastSuccessAt ?? null,
      ebpCodes: Array.isArray(h.ebpCodes) ? h.ebpCodes : [],
      signatures: h.signatures ?? null,
    });
  }
  return cards;
}

/** The certificate (base64 DER) a signer reported for this certNo, if the reporter kept one. */
export async function knownCertificate(redis: Redis, certNo: string): Promise<string | undefined> {
  const value = await redis.hget(RedisKeys.certificates, certNo.toLowerCase());
  return value ?? undefined;
}
