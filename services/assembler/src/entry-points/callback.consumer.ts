import { parseCallbackMessage, Queues } from '@ceb179/contracts';
import { consumeContract, type Broker } from '@ceb179/mq';
import type { AssembleRequest } from '../domain/assemble-request.use-case';

/** Consumes accepted callbacks; a payload that breaks its contract is dead-lettered, not retried. */
export class CallbackConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly assemble: AssembleRequest,
    private readonly prefetch: number,
  ) {}

  async start(): Promise<void> {
    await consumeContract(
      this.broker,
      Queues.callbacks,
      parseCallbackMessage,
      (message, delivery) => this.assemble.run(message, delivery.retries),
      {
        // Twice as many held as handled: those waiting are started earliest deadline first (see DeadlineOrder).
        prefetch: this.prefetch * 2,
        concurrency: this.prefetch,
      },
    );
  }
}
