import { AppError } from '@ceb179/errors';

/**
 * Classifies a refusal from the control. Only the reader/connection faults of docs/protocol.md §4
 * are known to be harmless to retry. The texts for a wrong or locked PIN are not public (L),
 * so every other refusal of a call that carried the PIN is treated as a possible PIN failure:
 * stop and ask a human, never retry.
 */
const READER_FAULTS: Array<{ pattern: RegExp; hint: string }> = [
  { pattern: /50070/, hint: 'reader reset failed (50070): restart the E-Port control or re-seat the card' },
  { pattern: /50200/, hint: 'reader open failed or no card (50200): check the card is inserted; restart the control' },
  { pattern: /60408/, hint: 'the control cannot be reached (60408): is the E-Port client running?' },
];

export function classifyRefusal(method: string, errors: string[], carriedPin: boolean): AppError {
  const text = errors.join('; ') || 'no error text';
  for (const fault of READER_FAULTS) {
    if (fault.pattern.test(text)) return new AppError('CARD_FAULT', `${method}: ${fault.hint} [${text}]`, { retryable: true });
  }
  if (carriedPin) {
    return new AppError('CARD_PIN', `${method} refused with a PIN attached; it may be a PIN failure [${text}]`, { retryable: false });
  }
  return new AppError('CARD_FAULT', `${method} refused [${text}]`, { retryable: true });
}
