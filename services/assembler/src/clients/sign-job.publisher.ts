import { Exchanges, SCHEMA_VERSION, type SignJobMessage } from '@ceb179/contracts';
import type { Broker } from '@ceb179/mq';

export interface SignJob {
  sessionID: string;
  ebpCode: string;
  signString: string;
  deadlineAt: Date;
}

/** Publishes a sign job keyed by ebpCode, so only a card registered for that ebpCode signs it. */
export class SignJobPublisher {
  constructor(private readonly broker: Broker) {}

  async publish(job: SignJob): Promise<void> {
    const message: SignJobMessage = {
      v: SCHEMA_VERSION,
      sessionID: job.sessionID,
      ebpCode: job.ebpCode,
      signString: job.signString,
      deadline: job.deadlineAt.toISOString(),
    };
    await this.broker.publish(Exchanges.signJobs, job.ebpCode, message, { sessionID: job.sessionID });
  }
}
