import { parseSignatureMessage, Queues } from '@ceb179/contracts';
import { consumeContract, type Broker } from '@ceb179/mq';
import type { SignatureCheck } from '../domain/signature-check';
import type { UploadRequest } from '../domain/upload-request.use-case';

/**
 * Consumes signatures from the signers; a payload that breaks its contract is dead-lettered, and
 * so is a signature that does not verify (SignatureCheck) before anything is stored.
 */
export class SignatureConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly upload: UploadRequest,
    private readonly prefetch: number,
    private readonly signatureCheck: SignatureCheck,
  ) {}

  async start(): Promise<void> {
    await consumeContract(
      this.broker,
      Queues.signatures,
      parseSignatureMessage,
      async (message, delivery) =>
        (await this.signatureCheck.check(message, delivery.retries)) ?? this.upload.run(message, delivery.retries),
      {
        // Twice as many held as handled: those waiting are started earliest deadline first (see DeadlineOrder).
        prefetch: this.prefetch * 2,
        concurrency: this.prefetch,
      },
    );
  }
}
