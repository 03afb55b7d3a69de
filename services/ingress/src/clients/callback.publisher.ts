import { Exchanges, SCHEMA_VERSION, type CallbackMessage } from '@ceb179/contracts';
import type { Broker } from '@ceb179/mq';
import type { CallbackPublisher } from '../domain/callback-intake.use-case';
import type { RecordedCallback } from '../data-access/callback.repository';

/**
 * Hands a recorded callback to the assembler through the callbacks exchange; until the assembler
 * has bound its queue the publish fails and the callback waits in the outbox (or the caller).
 */
export class BrokerCallbackPublisher implements CallbackPublisher {
  constructor(private readonly broker: Broker) {}

  async publish(callback: RecordedCallback): Promise<void> {
    const message: CallbackMessage = {
      v: SCHEMA_VERSION,
      sessionID: callback.sessionID,
      orderNo: callback.orderNo,
      customsServiceTime: callback.customsServiceTime,
      receivedAt: callback.receivedAt.toISOString(),
      deadline: callback.deadlineAt.toISOString(),
    };
    await this.broker.publish(Exchanges.callbacks, '', message, { sessionID: callback.sessionID, mandatory: true });
  }
}
