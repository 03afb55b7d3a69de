/** Customs codes with an entry of their own in docs/errors.md; any other code shares "customs-other". */
const CUSTOMS_CODES_WITH_ENTRY = new Set(['10000', '20000', '20004', '20006']);

/**
 * The entry of docs/errors.md that says what a finished-but-failed request means and what to do:
 * customs' code when there is one, else the ledger status.
 */
export function faultDoc(status: string, customsCode: string | null): string {
  if (customsCode) return `docs/errors.md#customs-${CUSTOMS_CODES_WITH_ENTRY.has(customsCode) ? customsCode : 'other'}`;
  return `docs/errors.md#status-${status}`;
}
