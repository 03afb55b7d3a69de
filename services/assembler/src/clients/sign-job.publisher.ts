import { authenticateSignJob, Exchanges, SCHEMA_VERSION } from '@ceb179/contracts';
import type { Broker } from '@ceb179/mq';

export interface SignJob {
  sessionID: string;
  ebpCode: string;
  signString: string;
  deadlineAt: Date;
}

/**
 * Publishes a sign job keyed by ebpCode, so only a card registered for that ebpCode signs it,
 * with the HMAC that tells the signer the job comes from us (sign-job-mac.ts in contracts).
 */
export class SignJobPublisher {
  constructor(
    private readonly broker: Broker,
    private readonly signJobKey: string,
  ) {}

  async publish(job: SignJob): Promise<void> {
    const message = authenticateSignJob(this.signJobKey, {
      v: SCHEMA_VERSION,
      sessionID: job.sessionID,
      ebpCode: job.ebpCode,
      signString: job.signString,
      deadline: job.deadlineAt.toISOString(),
    });
    await this.broker.publish(Exchanges.signJobs, job.ebpCode, message, { sessionID: job.sessionID, mandatory: true });
  }
}
