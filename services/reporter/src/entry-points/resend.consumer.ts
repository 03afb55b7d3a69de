import { parseResendRequestMessage, Queues } from '@ceb179/contracts';
import { consumeContract, type Broker } from '@ceb179/mq';
import type { UploadRequest } from '../domain/upload-request.use-case';

/** Consumes operators' re-send requests (CLI `ceb179 resend`, the console's button), one at a time. */
export class ResendConsumer {
  constructor(
    private readonly broker: Broker,
    private readonly upload: UploadRequest,
  ) {}

  async start(): Promise<void> {
    await consumeContract(
      this.broker,
      Queues.resendRequests,
      parseResendRequestMessage,
      (message, delivery) => this.upload.resend(message, delivery.retries),
      {
        prefetch: 1,
      },
    );
  }
}
