import { Exchanges, SCHEMA_VERSION, type SignatureMessage, type SignJobMessage } from '@ceb179/contracts';
import type { Broker } from '@ceb179/mq';
import type { SignAlgorithm } from '@ceb179/protocol';
import type { SignaturePublisher } from '../domain/sign-document.use-case';

/** Sends a verified signature to the reporter. Carries no PIN, no certificate private data. */
export class BrokerSignaturePublisher implements SignaturePublisher {
  constructor(
    private readonly broker: Broker,
    private readonly signerId: string,
    private readonly algorithm: () => SignAlgorithm,
  ) {}

  async publish(job: SignJobMessage, signValue: string, certNo: string): Promise<void> {
    const message: SignatureMessage = {
      v: SCHEMA_VERSION,
      sessionID: job.sessionID,
      ebpCode: job.ebpCode,
      certNo,
      signValue,
      algorithm: this.algorithm(),
      signedAt: new Date().toISOString(),
      signerId: this.signerId,
      deadline: job.deadline,
    };
    await this.broker.publish(Exchanges.signatures, '', message, { sessionID: job.sessionID, mandatory: true });
  }
}
