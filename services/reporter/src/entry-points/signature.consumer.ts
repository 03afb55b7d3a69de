import { parseSignatureMessage, Queues } from '@ceb179/contracts';
import { isAppError } from '@ceb179/errors';
import { deadLetter, type Broker } from '@ceb179/mq';
import type { UploadRequest } from '../domain/upload-request';

/** Consumes verified signatures from the signers; a payload that fails its contract is dead-lettered. */
export class SignatureConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly upload: UploadRequest,
    private readonly prefetch: number,
  ) {}

  async start(): Promise<void> {
    await this.broker.consume(
      Queues.signatures,
      async (delivery) => {
        let message;
        try {
          message = parseSignatureMessage(delivery.payload);
        } catch (error) {
          return deadLetter(isAppError(error) ? error.reason : String(error));
        }
        return this.upload.run(message, delivery.retries);
      },
      { prefetch: this.prefetch },
    );
  }
}
