import { AppError } from '@ceb179/errors';

/** numeric(19,5) in the source: customs' N19,5 (docs/protocol.md §2). */
export const AMOUNT_MAX_INTEGER_DIGITS = 14;
export const AMOUNT_MAX_FRACTION_DIGITS = 5;

const PLAIN_DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;

/**
 * Returns why `numeric` cannot be a totalAmount, or the shortest exact decimal text.
 * Pure string work: a binary float would silently round 14+5 digit amounts, and the amount is signed.
 */
export function checkAmount(numeric: unknown): { ok: true; json: string } | { ok: false; problem: string } {
  if (typeof numeric !== 'string') return { ok: false, problem: `is not numeric text (${numeric === null ? 'null' : typeof numeric})` };
  if (numeric === '') return { ok: false, problem: 'is empty' };
  const shown = JSON.stringify(numeric.length > 40 ? `${numeric.slice(0, 40)}…` : numeric);
  if (numeric.startsWith('-')) return { ok: false, problem: `is negative (${shown})` };
  if (/^\+?[0-9]*\.?[0-9]*[eE][+-]?[0-9]+$/.test(numeric)) {
    return { ok: false, problem: `has an exponent (${shown})` };
  }
  const match = PLAIN_DECIMAL.exec(numeric);
  if (!match) return { ok: false, problem: `is not a plain decimal number (${shown})` };
  const integer = (match[1] ?? '').replace(/^0+(?=[0-9])/, '');
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (integer.length > AMOUNT_MAX_INTEGER_DIGITS) {
    return { ok: false, problem: `has more than ${AMOUNT_MAX_INTEGER_DIGITS} integer digits (${integer.length})` };
  }
  if (fraction.length > AMOUNT_MAX_FRACTION_DIGITS) {
    return { ok: false, problem: `has more than ${AMOUNT_MAX_FRACTION_DIGITS} fraction digits (${fraction.length})` };
  }
  return { ok: true, json: fraction === '' ? integer : `${integer}.${fraction}` };
}

/**
 * Postgres numeric text -> the JSON number text customs expects: no exponent, no trailing zeros,
 * no trailing point (docs/protocol.md §3 rule 6).
 */
export function formatAmount(numeric: string): string {
  const result = checkAmount(numeric);
  if (result.ok) return result.json;
  throw new AppError('DATA_FAULT', `totalAmount ${result.problem}`, {
    fields: [{ field: 'totalAmount', problem: result.problem }],
  });
}
