import { AppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import type { ControlReply } from '@ceb179/protocol';
import { classifyRefusal } from './card-faults';

/** The persistence the gate needs (data-access/pin-memory.file.ts on the card PC). */
export interface PinMemory {
  load(certNo: string): PinRecord;
  save(record: PinRecord): void;
  fingerprint(certNo: string, pin: string): string;
}

/** What the card PC remembers about one card's PINs: salted fingerprints, never a PIN. */
export interface PinRecord {
  certNo: string;
  /** provenPin: the PIN this card last accepted; pendingPin: one sent whose answer never came. */
  provenPin?: string;
  pendingPin?: string;
  pendingSince?: string;
  refused: Array<{ pin: string; at: string; reason: string }>;
}

/**
 * - `unbound`: the card's certificate has not been read; no PIN may be sent (the memory is per card).
 * - `open`: the PIN may be sent.
 * - `probe-required`: a PIN-carrying call ended without a verdict (time-out, lost link, reader
 *   fault); the card must answer a PIN-free call before the PIN is sent again.
 * - `refused`: this card refused this PIN (now or in an earlier process); it is never sent again.
 */
export type PinGateState = 'unbound' | 'open' | 'probe-required' | 'refused';

/**
 * At most one refused attempt per PIN and card, ever (docs/signer-pin-safety.md). The control
 * link asks the gate at the moment it is about to send a PIN-carrying call and reports that call's
 * outcome before anyone else sees it, so calls queued behind a refused one are failed unsent.
 * Refusals are written to the card PC's disk before they are acted on, so neither a restart nor
 * the doctor nor a second process with the same PIN spends another attempt.
 */
export class PinGate {
  private current: PinGateState = 'unbound';
  private why = '';
  private certNo: string | undefined;
  private fingerprint: string | undefined;
  private readonly listeners: Array<(state: PinGateState, reason: string) => void> = [];

  constructor(
    private readonly memory: PinMemory,
    private readonly pin: string,
    private readonly logger: Logger,
  ) {}

  get state(): PinGateState {
    return this.current;
  }

  get reason(): string {
    return this.why;
  }

  get boundCertNo(): string | undefined {
    return this.certNo;
  }

  onChange(listener: (state: PinGateState, reason: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Ties the gate to the card whose certificate was just read (a PIN-free call, so the card is
   * known to answer). Reads what this card PC remembers of this PIN on this card.
   */
  bindCard(certNo: string): void {
    if (this.certNo === certNo) return;
    this.certNo = certNo;
    this.fingerprint = undefined;
    const record = this.memory.load(certNo);
    // The fingerprint (scrypt, and a salt file on first use) is only computed when there is something to compare.
    if (record.refused.length === 0 && !record.pendingPin) {
      this.set('open', '');
      return;
    }
    const fingerprint = this.bound().fingerprint;
    const refusal = record.refused.find((r) => r.pin === fingerprint);
    if (refusal) {
      this.set(
        'refused',
        `card ${certNo} refused this PIN on ${refusal.at} (${refusal.reason}); it will not be sent again: correct the PIN, then restart the signer`,
      );
      return;
    }
    if (record.pendingPin === fingerprint && record.provenPin !== fingerprint) {
      // The only attempt with this PIN never got an answer: it may have been counted as wrong.
      this.refuse(
        record,
        `the only attempt with this PIN on card ${certNo} (${record.pendingSince ?? 'time unknown'}) ended without an answer from the card`,
      );
      return;
    }
    this.set('open', '');
  }

  /** Throws unless a PIN-carrying call may be sent now. Called by the control link just before it sends. */
  assertMaySend(): void {
    switch (this.current) {
      case 'open':
        return;
      case 'refused':
        throw new AppError('CARD_PIN', `PIN not sent: ${this.why}`, { retryable: false });
      case 'probe-required':
        throw new AppError('CARD_FAULT', `PIN not sent: ${this.why}; the card must first answer a call without the PIN`, {
          retryable: true,
        });
      case 'unbound':
        throw new AppError('CARD_FAULT', 'PIN not sent: the card has not been identified yet (its certificate is read first)', {
          retryable: true,
        });
    }
  }

  /** The PIN-carrying call is about to leave: a first attempt with an unproven PIN is written down first. */
  sending(): void {
    const { certNo, fingerprint } = this.bound();
    const record = this.memory.load(certNo);
    if (record.provenPin === fingerprint) return;
    this.memory.save({ ...record, pendingPin: fingerprint, pendingSince: new Date().toISOString() });
  }

  /** The control answered a PIN-carrying call. Runs before the caller sees the reply. */
  answered(method: string, reply: ControlReply): void {
    const { certNo, fingerprint } = this.bound();
    const record = this.memory.load(certNo);
    if (reply.result) {
      if (record.provenPin !== fingerprint || record.pendingPin) {
        this.memory.save({ certNo, refused: record.refused, provenPin: fingerprint });
      }
      if (this.current !== 'refused') this.set('open', '');
      return;
    }
    const refusal = classifyRefusal(method, reply.errors, true);
    if (refusal.code === 'CARD_PIN') {
      this.refuse(record, `card ${certNo} refused ${method} with this PIN: ${reply.errors.join('; ') || 'no error text'}`);
      return;
    }
    // A known reader fault: the PIN was most likely not read, but the card must answer before the next one.
    this.memory.save(withoutPending(record));
    this.set('probe-required', `a PIN-carrying call met a reader fault (${reply.errors.join('; ')})`);
  }

  /** A PIN-carrying call ended without an answer: time-out, lost link, unsent. */
  unanswered(problem: string, sent: boolean): void {
    if (!this.certNo) return;
    const { fingerprint } = this.bound();
    const record = this.memory.load(this.certNo);
    if (!sent) {
      this.memory.save(withoutPending(record));
      return;
    }
    if (record.provenPin !== fingerprint) {
      this.refuse(
        record,
        `the first attempt with this PIN on card ${this.certNo} ended without an answer (${problem}); it may have been counted as wrong`,
      );
      return;
    }
    this.set('probe-required', `a PIN-carrying call ended without an answer (${problem})`);
  }

  /** A PIN-free call succeeded after probe-required. */
  probed(): void {
    if (this.current === 'probe-required') this.set('open', '');
  }

  private refuse(record: PinRecord, reason: string): void {
    const { fingerprint } = this.bound();
    const at = new Date().toISOString();
    this.memory.save({
      ...withoutPending(record),
      refused: [...record.refused.filter((r) => r.pin !== fingerprint), { pin: fingerprint, at, reason }],
    });
    this.set('refused', `${reason}; it will not be sent again: correct the PIN, then restart the signer`);
    this.logger.fatal({ certNo: record.certNo, alert: 'pin' }, 'PIN refusal remembered on this card PC: no further attempt with this PIN');
  }

  private bound(): { certNo: string; fingerprint: string } {
    if (!this.certNo) throw new AppError('INTERNAL', 'PIN gate used before the card was identified');
    this.fingerprint ??= this.memory.fingerprint(this.certNo, this.pin);
    return { certNo: this.certNo, fingerprint: this.fingerprint };
  }

  private set(state: PinGateState, reason: string): void {
    if (this.current === 'refused' && state !== 'refused') return;
    this.current = state;
    this.why = reason;
    for (const listener of this.listeners) listener(state, reason);
  }
}

function withoutPending(record: PinRecord): PinRecord {
  return {
    certNo: record.certNo,
    refused: record.refused,
    ...(record.provenPin ? { provenPin: record.provenPin } : {}),
  };
}
