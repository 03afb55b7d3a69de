import { parseCallbackMessage, Queues } from '@ceb179/contracts';
import { isAppError } from '@ceb179/errors';
import { deadLetter, type Broker } from '@ceb179/mq';
import type { AssembleRequest } from '../domain/assemble-request';

/** Consumes accepted callbacks; a payload that fails its contract is dead-lettered, not retried. */
export class CallbackConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly assemble: AssembleRequest,
    private readonly prefetch: number,
  ) {}

  async start(): Promise<void> {
    await this.broker.consume(
      Queues.callbacks,
      async (delivery) => {
        let message;
        try {
          message = parseCallbackMessage(delivery.payload);
        } catch (error) {
          return deadLetter(isAppError(error) ? error.reason : String(error));
        }
        return this.assemble.run(message, delivery.retries);
      },
      { prefetch: this.prefetch },
    );
  }
}
