import { DEADLINE_MS } from '@ceb179/contracts';
import { AppError, toAppError } from '@ceb179/errors';
import { forSession, type Logger } from '@ceb179/logger';
import type { CallbackRepository, RecordedCallback } from '../data-access/callback.repository';
import type { DuplicateCache } from '../data-access/duplicate.cache';
import type { OpenReq } from './open-req';
import { within } from './within';

/** The ports the intake decides over (Postgres, Redis and RabbitMQ in production; in-memory fakes in its unit tests). */
export type CallbackLedger = Pick<CallbackRepository, 'record' | 'markPublished'>;
export type DuplicateHint = Pick<DuplicateCache, 'seen' | 'remember'>;

export interface CallbackPublisher {
  publish(callback: RecordedCallback): Promise<void>;
}

export type IntakeResult = 'accepted' | 'duplicate';

export interface IntakeOptions {
  /** Every call is answered within this many ms of its arrival, whatever a dependency does. */
  answerBudgetMs: number;
}

/** Of the answer budget, what is kept for recording through RabbitMQ when the ledger is slow. */
function brokerShareMs(budgetMs: number): number {
  return Math.min(500, Math.floor(budgetMs / 3));
}

/**
 * Accepting a customs call: make it durable first (Postgres, or RabbitMQ if Postgres is down or
 * slow), answer, and hand it on to the assembler. Customs does not retry, so nothing is answered
 * 10000 before it is recorded somewhere, and every call is answered within the budget: the
 * ledger gets the budget less the broker's share; if it has not confirmed by then, the call is
 * recorded through RabbitMQ instead (the assembler creates the ledger row).
 *
 * The ledger insert that was given up on may still commit later (a stalled server wakes up and
 * runs it). That is harmless: the row and the broker message carry the same sessionID, the
 * assembler inserts ON CONFLICT DO NOTHING, and every later step is idempotent by sessionID, so
 * one upload comes of it. When the late insert lands, the row is marked published so the outbox
 * relay does not send the callback a second time.
 */
export class CallbackIntake {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly repository: CallbackLedger,
    private readonly duplicates: DuplicateHint,
    private readonly publisher: CallbackPublisher,
    private readonly logger: Logger,
    private readonly options: IntakeOptions,
  ) {}

  async accept(openReq: OpenReq, receivedAt = new Date()): Promise<IntakeResult> {
    const log = forSession(this.logger, openReq.sessionID);
    const answerBy = receivedAt.getTime() + this.options.answerBudgetMs;
    // The Redis hint is bounded by its own short timeout and skipped while Redis is not ready.
    if (await this.duplicates.seen(openReq.sessionID)) {
      log.info({ orderNo: openReq.orderNo }, 'duplicate callback (cache); already recorded');
      return 'duplicate';
    }
    const deadlineAt = new Date(receivedAt.getTime() + DEADLINE_MS);
    const insert = this.repository.record(openReq, receivedAt, deadlineAt);
    const ledgerWaitMs = answerBy - brokerShareMs(this.options.answerBudgetMs) - Date.now();
    const ledger = await within(insert, ledgerWaitMs);
    if (ledger.kind === 'failed') {
      log.error({ err: toAppError(ledger.error).message }, 'ledger unavailable; recording the callback in RabbitMQ instead');
      return this.acceptThroughBroker(openReq, receivedAt, deadlineAt, answerBy, log);
    }
    if (ledger.kind === 'timed-out') {
      log.error({ waitedMs: Math.max(0, ledgerWaitMs) }, 'ledger did not confirm in time; recording the callback in RabbitMQ instead');
      const result = this.acceptThroughBroker(openReq, receivedAt, deadlineAt, answerBy, log);
      this.followLateInsert(insert, result, log);
      return result;
    }
    const recorded = ledger.value;
    this.duplicates.remember(openReq.sessionID);
    if (!recorded) {
      log.info({ orderNo: openReq.orderNo }, 'duplicate callback; already recorded');
      return 'duplicate';
    }
    log.info({ orderNo: openReq.orderNo, serviceTime: openReq.serviceTime }, 'callback recorded');
    this.handOn(recorded, log);
    return 'accepted';
  }

  /** Waits for hand-offs still in flight (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Publishes without delaying the reply; if it fails, the outbox relay publishes it later. */
  private handOn(recorded: RecordedCallback, log: Logger): void {
    this.track(
      this.publisher
        .publish(recorded)
        .then(() => this.repository.markPublished(recorded.sessionID))
        .catch((error: unknown) => log.warn({ err: toAppError(error).message }, 'hand-off deferred to the outbox relay')),
    );
  }

  /**
   * The insert given up on may land after all. If the broker recorded the call, the row is
   * marked published (the assembler already has the message); if not, the relay publishes it.
   */
  private followLateInsert(insert: Promise<RecordedCallback | undefined>, viaBroker: Promise<IntakeResult>, log: Logger): void {
    this.track(
      Promise.allSettled([insert, viaBroker]).then(async ([row, broker]) => {
        if (row.status !== 'fulfilled' || !row.value) return;
        log.info({ viaBroker: broker.status === 'fulfilled' }, 'the late ledger insert landed after all');
        if (broker.status === 'fulfilled') await this.repository.markPublished(row.value.sessionID).catch(() => undefined);
      }),
    );
  }

  private async acceptThroughBroker(
    openReq: OpenReq,
    receivedAt: Date,
    deadlineAt: Date,
    answerBy: number,
    log: Logger,
  ): Promise<IntakeResult> {
    const publishing = this.publisher.publish({
      sessionID: openReq.sessionID,
      orderNo: openReq.orderNo,
      customsServiceTime: openReq.serviceTime,
      receivedAt,
      deadlineAt,
    });
    const outcome = await within(publishing, answerBy - Date.now());
    if (outcome.kind === 'settled') return 'accepted';
    const problem = outcome.kind === 'failed' ? toAppError(outcome.error).message : 'RabbitMQ did not confirm within the answer budget';
    log.error({ err: problem }, 'callback could not be recorded anywhere in time');
    throw new AppError('TRANSPORT', 'the platform could not record the call; nothing was accepted');
  }
}
