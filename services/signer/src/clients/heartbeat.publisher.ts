import { Exchanges, SCHEMA_VERSION, type SignerHeartbeatMessage } from '@ceb179/contracts';
import { toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import type { Broker } from '@ceb179/mq';
import { EXPIRY_WARNING_DAYS, type SignerStatus } from '../domain/signer-status';

/**
 * Reports the signer to the cloud side every few seconds over RabbitMQ (the card PC has no
 * inbound port). Also re-raises the certificate-expiry warning once a day while it applies.
 */
export class HeartbeatPublisher {
  private timer: NodeJS.Timeout | undefined;
  private lastExpiryWarning = 0;

  constructor(
    private readonly broker: Broker,
    private readonly status: SignerStatus,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.status.onChange(() => void this.beat());
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    void this.beat();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beat(); // the last word: e.g. "paused-for-pin" reaches the operators before we go
  }

  async beat(): Promise<void> {
    const s = this.status.snapshot();
    this.warnOnExpiry(s.daysLeft, s.certNo, s.notAfter);
    if (!this.broker.connected) return;
    const message: SignerHeartbeatMessage = {
      v: SCHEMA_VERSION,
      signerId: s.signerId,
      state: s.state,
      reason: s.reason,
      cardId: s.cardId ?? null,
      certNo: s.certNo ?? null,
      algorithm: s.algorithm ?? null,
      notAfter: s.notAfter ?? null,
      daysLeft: s.daysLeft ?? null,
      lastSuccessAt: s.lastSuccessAt ?? null,
      ebpCodes: s.ebpCodes,
      signatures: s.signatures,
      sentAt: new Date().toISOString(),
      certificate: this.status.certificateBase64 ?? null,
    };
    try {
      await this.broker.publish(Exchanges.signerHeartbeats, '', message, { sessionID: `heartbeat:${s.signerId}` });
    } catch (error) {
      this.logger.debug({ err: toAppError(error).message }, 'heartbeat not sent');
    }
  }

  private warnOnExpiry(daysLeft: number | undefined, certNo: string | undefined, notAfter: string | undefined): void {
    if (daysLeft === undefined || daysLeft > EXPIRY_WARNING_DAYS) return;
    if (Date.now() - this.lastExpiryWarning < 24 * 3600 * 1000) return;
    this.lastExpiryWarning = Date.now();
    this.logger.warn(
      { certNo, notAfter, daysLeft, alert: 'certificate-expiry' },
      'card certificate expires soon: renew it with the issuer',
    );
  }
}
