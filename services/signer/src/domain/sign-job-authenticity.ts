import { SignJobLimits, signJobMacValid, type SignJobMessage } from '@ceb179/contracts';

export interface SignJobAuthenticityOptions {
  /** CEB179_SIGN_JOB_KEY: shared with the assembler only. */
  key: string;
  /** The ebpCodes this card signs for; empty = all. */
  ebpCodes: readonly string[];
  /** How long after its deadline a job is still signed (CEB179_SIGNER_DEADLINE_GRACE_MS). */
  deadlineGraceMs: number;
  now?: () => number;
}

/**
 * Decides whether a sign job may reach the card at all. Only the assembler holds the key besides
 * the signers, so a job without a valid MAC was forged or altered by whoever could write to a
 * sign-job queue; a job with a valid MAC for another ebpCode was replayed onto the wrong queue;
 * a job past its deadline is stale (or replayed); an oversized field is refused before any work.
 * Returns the reason for refusing, or undefined when the job may be signed. Never asks the card.
 */
export class SignJobAuthenticity {
  private readonly now: () => number;

  constructor(private readonly options: SignJobAuthenticityOptions) {
    this.now = options.now ?? Date.now;
  }

  problem(job: SignJobMessage): string | undefined {
    for (const field of ['sessionID', 'ebpCode', 'signString', 'deadline'] as const) {
      if (job[field].length > SignJobLimits[field]) return `${field} is longer than ${SignJobLimits[field]} characters`;
    }
    if (typeof job.mac !== 'string' || job.mac === '') return 'not authenticated: the job carries no MAC';
    if (!signJobMacValid(this.options.key, job))
      return 'not authenticated: the MAC does not match the job (forged or altered, or another CEB179_SIGN_JOB_KEY)';
    const { ebpCodes } = this.options;
    if (ebpCodes.length > 0 && !ebpCodes.includes(job.ebpCode)) {
      return `this card does not sign for ebpCode ${job.ebpCode} (a job replayed onto another card's queue?)`;
    }
    const deadline = Date.parse(job.deadline);
    if (Number.isNaN(deadline)) return 'deadline is not a timestamp';
    const lateMs = this.now() - deadline;
    if (lateMs > this.options.deadlineGraceMs) return `the deadline passed ${Math.round(lateMs / 1000)} s ago`;
    return undefined;
  }
}
