import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignJobMessage } from './messages';

/**
 * Sign jobs are authenticated with HMAC-SHA256 under a key only the assembler and the signers
 * hold (CEB179_SIGN_JOB_KEY). A job that does not carry a valid MAC was not made by the
 * assembler: whoever can put a message on a sign-job queue still cannot have the card sign a
 * document of their choosing.
 *
 * The MAC covers every field of the job through one canonical encoding: a JSON array of a
 * domain label and the fields in a fixed order. JSON quoting makes the encoding unambiguous
 * (no field can spill into the next), and the label keeps a MAC for a sign job from ever
 * passing for a MAC of something else made with the same key.
 */
const DOMAIN = 'ceb179.sign-job.v1';

export type UnsignedSignJob = Omit<SignJobMessage, 'mac'>;

export function canonicalSignJob(job: UnsignedSignJob): string {
  return JSON.stringify([DOMAIN, job.v, job.sessionID, job.ebpCode, job.signString, job.deadline]);
}

/** The base64 HMAC-SHA256 of the job's canonical encoding. */
export function signJobMac(key: string, job: UnsignedSignJob): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(canonicalSignJob(job), 'utf8').digest('base64');
}

/** The job with its MAC, ready to publish. */
export function authenticateSignJob(key: string, job: UnsignedSignJob): SignJobMessage {
  return { ...job, mac: signJobMac(key, job) };
}

/** True when `job.mac` is the MAC of exactly this job under `key` (constant-time comparison). */
export function signJobMacValid(key: string, job: SignJobMessage): boolean {
  if (typeof job.mac !== 'string') return false;
  const expected = Buffer.from(signJobMac(key, job), 'base64');
  const given = Buffer.from(job.mac, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Largest fields a sign job may carry; anything longer is refused before it reaches the card. */
export const SignJobLimits = {
  /** Ingress refuses a longer sessionID from customs. */
  sessionID: 128,
  /** docs/protocol.md §2: ebpCode is at most 18 characters. */
  ebpCode: 18,
  /** Far above a real document (an order's goods list is a few KiB); bounds what the card is given. */
  signString: 1_048_576,
  /** An ISO-8601 timestamp. */
  deadline: 40,
} as const;
