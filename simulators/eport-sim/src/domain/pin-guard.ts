import { ControlErrors } from './control-errors';
import type { SoftCard } from './soft-card';

export type PinCheck = { ok: true } | { ok: false; locked: boolean; error: string };

/**
 * The card's retry counter: consecutive wrong PINs lock the card, a right PIN before that
 * resets the count, and once locked even the right PIN is refused (a real card needs the
 * issuer to unlock it). Never keeps or reports the PIN it was given.
 */
export class PinGuard {
  private consecutiveWrong = 0;
  private attempts = 0;
  private wrongAttempts = 0;

  constructor(
    private readonly card: SoftCard,
    private readonly maxWrongPins: number,
  ) {
    if (!Number.isInteger(maxWrongPins) || maxWrongPins < 1) throw new RangeError('maxWrongPins must be a positive integer');
  }

  get locked(): boolean {
    return this.consecutiveWrong >= this.maxWrongPins;
  }

  /** Counts every PIN presented, including those refused unread because the card is locked. */
  check(pin: string): PinCheck {
    this.attempts += 1;
    if (this.locked) return { ok: false, locked: true, error: ControlErrors.cardLocked };
    if (this.card.pinMatches(pin)) {
      this.consecutiveWrong = 0;
      return { ok: true };
    }
    this.consecutiveWrong += 1;
    this.wrongAttempts += 1;
    return { ok: false, locked: this.locked, error: ControlErrors.wrongPin(this.maxWrongPins - this.consecutiveWrong) };
  }

  /** The issuer's unlock, for tests that go on after a lock-out. */
  unlock(): void {
    this.consecutiveWrong = 0;
  }

  stats(): { pinAttempts: number; wrongPinAttempts: number; locked: boolean } {
    return { pinAttempts: this.attempts, wrongPinAttempts: this.wrongAttempts, locked: this.locked };
  }
}
