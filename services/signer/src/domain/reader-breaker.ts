import { toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import type { SignerStatus } from './signer-status';

export interface ReaderBreakerOptions {
  /** Consecutive reader/control faults that open the breaker. */
  threshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  /** A PIN-free call proving the card answers again (e.g. read certNo). */
  probe: () => Promise<void>;
  pauseConsumption: () => void;
  resumeConsumption: () => Promise<void>;
  /** Optional: restarts the E-Port control, the known cure for 50070/50200 (docs/protocol.md §4). */
  restartControl?: () => Promise<void>;
}

/**
 * Circuit breaker for reader faults. A few faults in a row mean the reader or control is down:
 * stop taking jobs (they wait in the queue, or another signer of the same ebpCode takes them),
 * optionally restart the control, and probe with a call that carries no PIN until the card
 * answers; then consume again. The probe never spends a PIN attempt.
 */
export class ReaderBreaker {
  private consecutive = 0;
  private open = false;
  private cooldownMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: ReaderBreakerOptions,
    private readonly status: SignerStatus,
    private readonly logger: Logger,
  ) {
    this.cooldownMs = options.cooldownMs;
  }

  get isOpen(): boolean {
    return this.open;
  }

  success(): void {
    this.consecutive = 0;
  }

  fault(problem: string): void {
    this.consecutive += 1;
    if (this.open || this.consecutive < this.options.threshold) return;
    this.open = true;
    this.status.set('reader-fault', problem);
    this.logger.error(
      { problem, faults: this.consecutive, cooldownMs: this.cooldownMs, alert: 'reader' },
      'reader circuit breaker open: consumption paused',
    );
    this.options.pauseConsumption();
    void this.restartControl().finally(() => this.schedule());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.halfOpen().catch((error: unknown) =>
        this.logger.error({ problem: toAppError(error).message }, 'reader breaker probe failed unexpectedly'),
      );
    }, this.cooldownMs);
  }

  private async halfOpen(): Promise<void> {
    if (this.stopped || this.status.pinLocked) return;
    try {
      await this.options.probe();
    } catch (error) {
      this.cooldownMs = Math.min(this.options.maxCooldownMs, this.cooldownMs * 2);
      this.logger.warn({ problem: toAppError(error).message, retryInMs: this.cooldownMs }, 'card still not answering');
      this.schedule();
      return;
    }
    this.open = false;
    this.consecutive = 0;
    this.cooldownMs = this.options.cooldownMs;
    this.status.set('ready');
    this.logger.info('card answers again: reader circuit breaker closed, consuming');
    try {
      await this.options.resumeConsumption();
    } catch (error) {
      // The broker reattaches consumers on its own after a reconnect; never let this escape a timer.
      this.logger.warn({ problem: toAppError(error).message }, 'could not resume consumption yet; the broker retries on reconnect');
    }
  }

  private async restartControl(): Promise<void> {
    if (!this.options.restartControl) return;
    try {
      await this.options.restartControl();
      this.logger.info('control restart command finished');
    } catch (error) {
      this.logger.error({ problem: toAppError(error).message }, 'control restart command failed');
    }
  }
}
