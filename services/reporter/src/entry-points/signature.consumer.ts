import { parseSignatureMessage, Queues } from '@ceb179/contracts';
import { consumeContract, type Broker } from '@ceb179/mq';
import type { UploadRequest } from '../domain/upload-request';

/** Consumes verified signatures from the signers; a payload that breaks its contract is dead-lettered. */
export class SignatureConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly upload: UploadRequest,
    private readonly prefetch: number,
  ) {}

  async start(): Promise<void> {
    await consumeContract(this.broker, Queues.signatures, parseSignatureMessage, (message, delivery) => this.upload.run(message, delivery.retries), {
      // Twice as many held as handled: those waiting are started earliest deadline first (see DeadlineOrder).
      prefetch: this.prefetch * 2,
      concurrency: this.prefetch,
    });
  }
}
