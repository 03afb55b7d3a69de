import type { CardCertificate } from '@ceb179/protocol';

/**
 * - paused-for-pin: the card refused (or may have refused) this PIN: no PIN is sent until a person fixes it.
 * - reader-fault: the reader or control is failing; probing without the PIN until it answers.
 * - signing-fault: the card's signatures stop verifying (every job, the probe too); jobs stay queued.
 * - expired: the certificate is expired, not yet valid, or does not match the control's certNo.
 */
export const SIGNER_STATES = ['starting', 'ready', 'paused-for-pin', 'reader-fault', 'signing-fault', 'expired'] as const;
export type SignerState = (typeof SIGNER_STATES)[number];

const DAY_MS = 24 * 3600 * 1000;
export const EXPIRY_WARNING_DAYS = 30;

export interface SignerSnapshot {
  signerId: string;
  state: SignerState;
  reason: string;
  cardId: string | undefined;
  certNo: string | undefined;
  algorithm: string | undefined;
  notAfter: string | undefined;
  daysLeft: number | undefined;
  expiringSoon: boolean;
  lastSuccessAt: string | undefined;
  ebpCodes: string[];
  signatures: number;
  readerFaults: number;
  badSignatures: number;
}

/**
 * What the signer is doing and why, for health, metrics, heartbeats and logs. Holds the latch
 * that keeps a possibly wrong PIN away from the card: once paused for the PIN, only a restart
 * (a person, with a corrected PIN) clears it. Never holds the PIN.
 */
export class SignerStatus {
  private current: SignerState = 'starting';
  private why = '';
  private certificate: CardCertificate | undefined;
  private card: string | undefined;
  private lastSuccess: Date | undefined;
  private counters = { signatures: 0, readerFaults: 0, badSignatures: 0 };
  private readonly listeners: Array<(state: SignerState) => void> = [];

  constructor(
    private readonly signerId: string,
    private readonly ebpCodes: string[],
  ) {}

  get state(): SignerState {
    return this.current;
  }

  get reason(): string {
    return this.why;
  }

  get pinLocked(): boolean {
    return this.current === 'paused-for-pin';
  }

  set(state: SignerState, reason = ''): void {
    if (this.current === 'paused-for-pin') return;
    const changed = state !== this.current;
    this.current = state;
    this.why = reason;
    if (changed) for (const listener of this.listeners) listener(state);
  }

  /** Called on every change of state (heartbeats report a change at once). */
  onChange(listener: (state: SignerState) => void): void {
    this.listeners.push(listener);
  }

  /** The card's signing certificate (public data), base64 DER, once read: the reporter verifies against it. */
  get certificateBase64(): string | undefined {
    return this.certificate?.der.toString('base64');
  }

  cardIdentified(certificate: CardCertificate, cardId: string): void {
    this.certificate = certificate;
    this.card = cardId;
  }

  signed(): void {
    this.counters.signatures += 1;
    this.lastSuccess = new Date();
  }

  readerFault(): void {
    this.counters.readerFaults += 1;
  }

  badSignature(): void {
    this.counters.badSignatures += 1;
  }

  daysLeft(now = new Date()): number | undefined {
    if (!this.certificate) return undefined;
    return Math.floor((this.certificate.notAfter.getTime() - now.getTime()) / DAY_MS);
  }

  snapshot(now = new Date()): SignerSnapshot {
    const daysLeft = this.daysLeft(now);
    return {
      signerId: this.signerId,
      state: this.current,
      reason: this.why,
      cardId: this.card,
      certNo: this.certificate?.certNo,
      algorithm: this.certificate?.algorithm,
      notAfter: this.certificate?.notAfter.toISOString(),
      daysLeft,
      expiringSoon: daysLeft !== undefined && daysLeft <= EXPIRY_WARNING_DAYS,
      lastSuccessAt: this.lastSuccess?.toISOString(),
      ebpCodes: this.ebpCodes,
      ...this.counters,
    };
  }
}
