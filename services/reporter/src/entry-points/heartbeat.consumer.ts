import { parseSignerHeartbeatMessage, Queues } from '@ceb179/contracts';
import { toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { ack, consumeContract, type Broker } from '@ceb179/mq';
import type { SignerRegistry } from '../data-access/signer.registry';
import type { KnownCertificates } from '../domain/known-certificates';

/**
 * Keeps the signers' heartbeats in Redis for operators (`npm run status`) and logs state
 * changes. Heartbeats are news: one that cannot be stored is dropped, not retried.
 */
export class HeartbeatConsumer {
  private readonly lastState = new Map<string, string>();
  private readonly lastRefusalLog = new Map<string, number>();

  constructor(
    private readonly broker: Broker,
    private readonly registry: SignerRegistry,
    private readonly logger: Logger,
    private readonly certificates: KnownCertificates,
  ) {}

  async start(): Promise<void> {
    await consumeContract(
      this.broker,
      Queues.signerHeartbeats,
      parseSignerHeartbeatMessage,
      async (heartbeat) => {
        if (this.lastState.get(heartbeat.signerId) !== heartbeat.state) {
          this.lastState.set(heartbeat.signerId, heartbeat.state);
          const level = heartbeat.state === 'ready' ? 'info' : 'error';
          this.logger[level](
            {
              signerId: heartbeat.signerId,
              state: heartbeat.state,
              reason: heartbeat.reason,
              certNo: heartbeat.certNo,
              alert: level === 'error' ? 'signer' : undefined,
            },
            'signer state',
          );
        }
        if (heartbeat.certificate) this.learnCertificate(heartbeat.signerId, heartbeat.certificate, heartbeat.ebpCodes);
        await this.registry
          .record(heartbeat)
          .catch((error: unknown) => this.logger.warn({ err: toAppError(error).message }, 'heartbeat not stored (Redis)'));
        return ack;
      },
      { prefetch: 20 },
    );
  }

  /** The card certificate a signer read at its self-test: what its signatures are verified against. */
  private learnCertificate(signerId: string, certificateBase64: string, ebpCodes: string[]): void {
    const result = this.certificates.learn(certificateBase64, ebpCodes);
    if (result.refused) {
      // Every heartbeat repeats it: one alert per signer and problem every 10 minutes is enough.
      const key = `${signerId}\n${result.refused}`;
      if (Date.now() - (this.lastRefusalLog.get(key) ?? 0) < 600_000) return;
      if (this.lastRefusalLog.size > 1_000) this.lastRefusalLog.clear(); // forged signerIds must not grow it without bound
      this.lastRefusalLog.set(key, Date.now());
      this.logger.error({ signerId, problem: result.refused, alert: 'certificate' }, 'card certificate in a heartbeat refused');
    } else if (result.learned) {
      this.logger.info(
        { signerId, certNo: result.certificate?.certNo, ebpCodes: ebpCodes.length > 0 ? ebpCodes : 'all' },
        'card certificate learned; its signatures will be verified against it',
      );
    }
  }
}
