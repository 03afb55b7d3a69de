import type { ConfirmChannel } from 'amqplib';
import { Exchanges, SCHEMA_VERSION, type SignerHeartbeatMessage } from '@ceb179/contracts';
import type { SoftCard } from '@ceb179/eport-sim';

/**
 * Publishes what a ready signer tells the reporter at start: its card's certificate, which every
 * signature from that card must verify against. The caller waits for the confirms.
 */
export function announceReadySigner(publisher: ConfirmChannel, card: SoftCard, signerId: string, cardId: string): void {
  const heartbeat: SignerHeartbeatMessage = {
    v: SCHEMA_VERSION,
    signerId,
    state: 'ready',
    reason: '',
    cardId,
    certNo: card.certNo,
    algorithm: card.algorithm,
    notAfter: null,
    daysLeft: null,
    lastSuccessAt: null,
    ebpCodes: [],
    signatures: 0,
    sentAt: new Date().toISOString(),
    certificate: card.certificateBase64,
  };
  publisher.publish(Exchanges.signerHeartbeats, '', Buffer.from(JSON.stringify(heartbeat)), { persistent: true });
}
