/** One line of the first-contact report: what was checked, whether it passed, and what to do if not. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string[];
  fix?: string;
  /** The entry of docs/errors.md or docs/first-contact.md that explains a failure. */
  doc?: string;
}
