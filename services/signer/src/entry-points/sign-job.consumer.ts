import { parseSignJobMessage, Queues, signJobQueueFor } from '@ceb179/contracts';
import { consumeContract, type Broker } from '@ceb179/mq';
import type { SignJob } from '../domain/sign-job';

/** The queues this card consumes: one per configured ebpCode, or the shared "any" queue. */
export function signJobQueues(ebpCodes: string[]): string[] {
  return ebpCodes.length > 0 ? ebpCodes.map(signJobQueueFor) : [Queues.signJobsAny];
}

export class SignJobConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly signJob: SignJob,
    private readonly queues: string[],
    private readonly prefetch: number,
  ) {}

  async start(): Promise<void> {
    for (const queue of this.queues) {
      await consumeContract(this.broker, queue, parseSignJobMessage, (job, delivery) => this.signJob.run(job, delivery.retries), {
        prefetch: this.prefetch,
      });
    }
  }
}
