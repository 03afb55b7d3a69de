import { toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import type { CallbackRepository } from '../data-access/callback.repository';
import type { CallbackPublisher } from './callback-intake.use-case';

/** Callbacks younger than this are still being handed on by the request that recorded them. */
const MIN_AGE_MS = 3_000;
const BATCH = 200;

/**
 * Publishes callbacks that were recorded but never reached RabbitMQ (broker down, process
 * killed between commit and publish). Runs every few seconds while the broker is connected.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly repository: CallbackRepository,
    private readonly publisher: CallbackPublisher,
    private readonly isBrokerUp: () => boolean,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running && this.isBrokerUp())
        this.running = this.runOnce()
          .then(() => undefined)
          .finally(() => (this.running = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async runOnce(): Promise<number> {
    try {
      let total = 0;
      for (;;) {
        const relayed = await this.repository.relayUnpublished(MIN_AGE_MS, BATCH, (c) => this.publisher.publish(c));
        total += relayed;
        if (relayed < BATCH) break;
      }
      if (total > 0) this.logger.info({ relayed: total }, 'outbox relay published recorded callbacks');
      return total;
    } catch (error) {
      this.logger.warn({ err: toAppError(error).message }, 'outbox relay could not publish; will retry');
      return 0;
    }
  }
}
