/** One line of the first-contact report: what was checked, whether it passed, and what to do if not. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** Informational: printed as NOTE, never fails the run. */
  note?: boolean;
  detail: string[];
  fix?: string;
  /** The entry of docs/errors.md or docs/first-contact.md that explains a failure. */
  doc?: string;
}
