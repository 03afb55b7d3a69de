import type { RecordedCallback } from '../data-access/callback.repository';
import type { CallbackLedger, CallbackPublisher, DuplicateHint } from './callback-intake.use-case';
import type { OpenReq } from './open-req';

/** A promise settled by the test: a dependency that answers late, or never. */
export class Pending<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** The ledger in memory: one row per sessionID, like the primary key. */
export class InMemoryLedger implements CallbackLedger {
  readonly rows = new Map<string, RecordedCallback & { published: boolean }>();
  /** When set, record() answers with this instead (a ledger that is down or stalled); the row lands when it resolves. */
  answer: ((row: () => RecordedCallback | undefined) => Promise<RecordedCallback | undefined>) | undefined;

  record(openReq: OpenReq, receivedAt: Date, deadlineAt: Date): Promise<RecordedCallback | undefined> {
    const insert = (): RecordedCallback | undefined => {
      if (this.rows.has(openReq.sessionID)) return undefined;
      const row = {
        sessionID: openReq.sessionID,
        orderNo: openReq.orderNo,
        customsServiceTime: openReq.serviceTime,
        receivedAt,
        deadlineAt,
      };
      this.rows.set(openReq.sessionID, { ...row, published: false });
      return row;
    };
    return this.answer ? this.answer(insert) : Promise.resolve(insert());
  }

  markPublished(sessionID: string): Promise<void> {
    const row = this.rows.get(sessionID);
    if (row) row.published = true;
    return Promise.resolve();
  }
}

export class InMemoryDuplicateHint implements DuplicateHint {
  readonly remembered = new Set<string>();

  seen(sessionID: string): Promise<boolean> {
    return Promise.resolve(this.remembered.has(sessionID));
  }

  remember(sessionID: string): void {
    this.remembered.add(sessionID);
  }
}

/** RabbitMQ's confirm: immediate by default; `answer` makes it fail or stall. */
export class RecordingPublisher implements CallbackPublisher {
  readonly published: RecordedCallback[] = [];
  answer: (() => Promise<void>) | undefined;

  async publish(callback: RecordedCallback): Promise<void> {
    if (this.answer) await this.answer();
    this.published.push(callback);
  }
}
