import { AppError } from '@ceb179/errors';
import type { UploadRecord } from './types';

interface Waiter {
  count: number;
  resolve: (records: UploadRecord[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Every upload request in arrival order, the accepted one per sessionID, and tests waiting for them. */
export class UploadLog {
  private readonly all: UploadRecord[] = [];
  private readonly stored = new Map<string, UploadRecord>();
  private waiters: Waiter[] = [];

  record(upload: UploadRecord): void {
    this.all.push(upload);
  }

  isAccepted(sessionID: string): boolean {
    return this.stored.has(sessionID);
  }

  accept(upload: UploadRecord & { sessionID: string }): void {
    this.stored.set(upload.sessionID, upload);
    this.waiters = this.waiters.filter((waiter) => !this.settle(waiter));
  }

  uploads(): UploadRecord[] {
    return [...this.all];
  }

  accepted(): Map<string, UploadRecord> {
    return new Map(this.stored);
  }

  /** The accepted upload for a sessionID, else its latest attempt. */
  find(sessionID: string): UploadRecord | undefined {
    return this.stored.get(sessionID) ?? this.all.filter((u) => u.sessionID === sessionID).at(-1);
  }

  waitForAccepted(count: number, timeoutMs: number): Promise<UploadRecord[]> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new AppError('NOT_FOUND', this.shortfall(count, timeoutMs)));
        }, timeoutMs),
      };
      if (!this.settle(waiter)) this.waiters.push(waiter);
    });
  }

  /** Rejects everyone still waiting: nothing will arrive after a stop. */
  close(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new AppError('NOT_FOUND', `customs-sim stopped while waiting for ${waiter.count} accepted uploads`));
    }
    this.waiters = [];
  }

  private settle(waiter: Waiter): boolean {
    if (this.stored.size < waiter.count) return false;
    clearTimeout(waiter.timer);
    waiter.resolve([...this.stored.values()]);
    return true;
  }

  /** Says what did arrive, so a failing test shows why (rejections and faults included). */
  private shortfall(count: number, timeoutMs: number): string {
    const rejected = this.all.filter((u) => u.code !== '10000');
    const last = rejected.at(-1);
    const lastText = last ? `; last not accepted: HTTP ${last.httpStatus} code "${last.code}" ${last.message}` : '';
    return (
      `customs-sim: waited ${timeoutMs} ms for ${count} accepted uploads, got ${this.stored.size} ` +
      `(${this.all.length} upload requests, ${rejected.length} not accepted${lastText})`
    );
  }
}
