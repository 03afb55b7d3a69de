import { DEADLINE_MS } from '@ceb179/contracts';
import { AppError, toAppError } from '@ceb179/errors';
import { forSession, type Logger } from '@ceb179/logger';
import type { CallbackRepository, RecordedCallback } from '../data-access/callback.repository';
import type { DuplicateCache } from '../data-access/duplicate.cache';
import type { OpenReq } from './open-req';

export interface CallbackPublisher {
  publish(callback: RecordedCallback): Promise<void>;
}

export type IntakeResult = 'accepted' | 'duplicate';

/**
 * Accepting a customs call: make it durable first (Postgres, or RabbitMQ if Postgres is down),
 * answer, and hand it on to the assembler. Customs does not retry, so nothing is answered 10000
 * before it is recorded somewhere.
 */
export class CallbackIntake {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly repository: CallbackRepository,
    private readonly duplicates: DuplicateCache,
    private readonly publisher: CallbackPublisher,
    private readonly logger: Logger,
  ) {}

  async accept(openReq: OpenReq, receivedAt = new Date()): Promise<IntakeResult> {
    const log = forSession(this.logger, openReq.sessionID);
    if (await this.duplicates.seen(openReq.sessionID)) {
      log.info({ orderNo: openReq.orderNo }, 'duplicate callback (cache); already recorded');
      return 'duplicate';
    }
    const deadlineAt = new Date(receivedAt.getTime() + DEADLINE_MS);
    let recorded: RecordedCallback | undefined;
    try {
      recorded = await this.repository.record(openReq, receivedAt, deadlineAt);
    } catch (error) {
      return this.acceptThroughBroker(openReq, receivedAt, deadlineAt, error, log);
    }
    if (!recorded) {
      log.info({ orderNo: openReq.orderNo }, 'duplicate callback; already recorded');
      await this.duplicates.remember(openReq.sessionID);
      return 'duplicate';
    }
    log.info({ orderNo: openReq.orderNo, serviceTime: openReq.serviceTime }, 'callback recorded');
    await this.duplicates.remember(openReq.sessionID);
    this.handOn(recorded, log);
    return 'accepted';
  }

  /** Waits for hand-offs still in flight (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Publishes without delaying the reply; if it fails, the outbox relay publishes it later. */
  private handOn(recorded: RecordedCallback, log: Logger): void {
    const work = this.publisher
      .publish(recorded)
      .then(() => this.repository.markPublished(recorded.sessionID))
      .catch((error: unknown) => log.warn({ err: toAppError(error).message }, 'hand-off deferred to the outbox relay'));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async acceptThroughBroker(
    openReq: OpenReq,
    receivedAt: Date,
    deadlineAt: Date,
    databaseError: unknown,
    log: Logger,
  ): Promise<IntakeResult> {
    log.error({ err: toAppError(databaseError).message }, 'ledger unavailable; recording the callback in RabbitMQ instead');
    try {
      await this.publisher.publish({
        sessionID: openReq.sessionID,
        orderNo: openReq.orderNo,
        customsServiceTime: openReq.serviceTime,
        receivedAt,
        deadlineAt,
      });
    } catch (error) {
      log.error({ err: toAppError(error).message }, 'callback could not be recorded anywhere');
      throw new AppError('TRANSPORT', 'the platform could not record the call; nothing was accepted', { cause: error });
    }
    return 'accepted';
  }
}
