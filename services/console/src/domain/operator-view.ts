import type { Redis } from 'ioredis';
import type { Pool } from '@ceb179/db';
import {
  countByStatus,
  findTimelines,
  listRequests,
  readSigners,
  requestResend,
  resendRefusal,
  type ListKind,
  type RequestTimeline,
  type ResendAccepted,
  type ResendPublisher,
  type SignerCard,
  type StageCount,
} from '@ceb179/operator';

export interface Overview {
  now: string;
  hours: number;
  counts: StageCount[];
  signers: SignerCard[];
  /** Why the signer cards are missing (Redis unreachable); the rest of the page still works. */
  signersProblem: string | null;
}

export interface RequestDetail extends RequestTimeline {
  resend: { allowed: boolean; refusal: string | null };
}

/** What the console shows and does, on the same operator library as the CLI (same queries, same re-send). */
export class OperatorView {
  constructor(
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly publisher: ResendPublisher,
  ) {}

  async overview(hours: number): Promise<Overview> {
    const counts = await countByStatus(this.pool, hours);
    let signers: SignerCard[] = [];
    let signersProblem: string | null = null;
    try {
      signers = await readSigners(this.redis);
    } catch (error) {
      signersProblem = `Redis unreachable: ${(error as Error).message}`;
    }
    return { now: new Date().toISOString(), hours, counts, signers, signersProblem };
  }

  list(kind: ListKind, limit: number): Promise<RequestTimeline[]> {
    return listRequests(this.pool, { kind, limit });
  }

  async detail(key: string): Promise<RequestDetail[]> {
    const timelines = await findTimelines(this.pool, key);
    return timelines.map((t) => {
      const refusal = resendRefusal(t);
      return { ...t, resend: { allowed: refusal === null, refusal } };
    });
  }

  resend(sessionID: string, requestedBy: string): Promise<ResendAccepted> {
    return requestResend(this.pool, this.publisher, sessionID, requestedBy);
  }
}
