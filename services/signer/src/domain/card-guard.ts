export type SignerState = 'starting' | 'ready' | 'paused-for-pin' | 'reader-fault' | 'expired';

/**
 * The signer's state, and the latch that keeps a possibly wrong PIN away from the card: once
 * tripped, it stays tripped until the process is restarted by a person with a corrected PIN.
 */
export class CardGuard {
  private current: SignerState = 'starting';
  private why = '';

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
    if (this.current === 'paused-for-pin') return; // only a restart clears a PIN stop
    this.current = state;
    this.why = reason;
  }
}
