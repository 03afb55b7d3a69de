import { parseSignerHeartbeatMessage, Queues } from '@ceb179/contracts';
import { toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { ack, consumeContract, type Broker } from '@ceb179/mq';
import type { SignerRegistry } from '../data-access/signer-registry';

/**
 * Keeps the signers' heartbeats in Redis for operators (`npm run status`) and logs state
 * changes. Heartbeats are news: one that cannot be stored is dropped, not retried.
 */
export class HeartbeatConsumer {
  private readonly lastState = new Map<string, string>();

  constructor(
    private readonly broker: Broker,
    private readonly registry: SignerRegistry,
    private readonly logger: Logger,
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
          this.logger[level]({ signerId: heartbeat.signerId, state: heartbeat.state, reason: heartbeat.reason, certNo: heartbeat.certNo, alert: level === 'error' ? 'signer' : undefined }, 'signer state');
        }
        await this.registry.record(heartbeat).catch((error: unknown) => this.logger.warn({ err: toAppError(error).message }, 'heartbeat not stored (Redis)'));
        return ack;
      },
      { prefetch: 20 },
    );
  }
}
