import { parseSignJobMessage, Queues, signJobQueueFor } from '@ceb179/contracts';
import { forSession, type Logger } from '@ceb179/logger';
import { consumeContract, deadLetter, type Broker } from '@ceb179/mq';
import type { SignDocument } from '../domain/sign-document.use-case';
import type { SignJobAuthenticity } from '../domain/sign-job-authenticity';

/** The queues this card consumes: one per configured ebpCode, or the shared "any" queue. */
export function signJobQueues(ebpCodes: string[]): string[] {
  return ebpCodes.length > 0 ? ebpCodes.map(signJobQueueFor) : [Queues.signJobsAny];
}

export class SignJobConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly signDocument: SignDocument,
    private readonly queues: string[],
    private readonly prefetch: number,
    private readonly authenticity: SignJobAuthenticity,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const queue of this.queues) {
      await consumeContract(
        this.broker,
        queue,
        parseSignJobMessage,
        async (job, delivery) => {
          // Before anything else, the card included: a job we did not make is never signed.
          const problem = this.authenticity.problem(job);
          if (problem) {
            forSession(this.logger, job.sessionID).error(
              { problem, ebpCode: job.ebpCode, queue, alert: 'forged-sign-job' },
              'sign job refused before reaching the card; dead-lettered',
            );
            return deadLetter(`sign job refused: ${problem}`);
          }
          return this.signDocument.run(job, delivery.retries);
        },
        { prefetch: this.prefetch },
      );
    }
  }
}
