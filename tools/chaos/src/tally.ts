/** Customs' deadline for the upload: the callback's time plus two minutes (docs/protocol.md §0). */
export const DEADLINE_MS = 120_000;

/** Every callback must be answered within this (customs does not wait long, and never retries). */
export const ANSWER_LIMIT_MS = 2_000;

/** One customs callback as the chaos run fired it. */
export interface SentCallback {
  sessionID: string;
  orderNo: string;
  sentAt: number;
  /** How long the answer took, when one came (any code). */
  answerMs?: number;
  /** undefined while the call is in flight. */
  answer?: { kind: 'accepted' } | { kind: 'refused'; detail: string };
}

/** What customs received: the parts of customs-sim's UploadRecord the tally reads. */
export interface ReceivedUpload {
  sessionID?: string | undefined;
  code: string;
  verified: boolean;
  receivedAt: Date;
}

export interface Tally {
  sent: number;
  inFlight: number;
  /** Answered 10000: the promise. */
  accepted: number;
  /** Any other answer, or a transport error: not promised. */
  refused: number;
  /** Accepted and stored by customs exactly once. */
  uploadedOnce: number;
  /** Accepted, not (yet) stored by customs. */
  pending: string[];
  /** Stored by customs more than once (whether or not the call was accepted). */
  duplicated: string[];
  /** Uploads customs answered 20006 (a resend of something it already held), and for how many sessionIDs. */
  resent20006: number;
  resentSessions: number;
  /** Accepted and stored, but after the callback's time + 120 s. */
  late: number;
  /** Refused, yet recorded before the refusal and uploaded (allowed: still at most once). */
  refusedButUploaded: number;
  /** Stored uploads whose signature customs could not verify (should be none). */
  unverified: number;
  /** Upload answers other than 10000/20006 that were not injected transport faults, by code. */
  otherCodes: Record<string, number>;
  /** The longest time a callback waited for its answer; undefined before any answer. */
  slowestAnswerMs: number | undefined;
  /** Callbacks answered after more than ANSWER_LIMIT_MS. */
  answeredSlowly: number;
}

export function tally(callbacks: Iterable<SentCallback>, uploads: readonly ReceivedUpload[]): Tally {
  const stored = new Map<string, ReceivedUpload[]>();
  const result: Tally = {
    sent: 0,
    inFlight: 0,
    accepted: 0,
    refused: 0,
    uploadedOnce: 0,
    pending: [],
    duplicated: [],
    resent20006: 0,
    resentSessions: 0,
    late: 0,
    refusedButUploaded: 0,
    unverified: 0,
    otherCodes: {},
    slowestAnswerMs: undefined,
    answeredSlowly: 0,
  };
  const resent = new Set<string>();
  for (const upload of uploads) {
    const sessionID = upload.sessionID ?? '';
    if (upload.code === '10000') {
      stored.set(sessionID, [...(stored.get(sessionID) ?? []), upload]);
      if (!upload.verified) result.unverified += 1;
    } else if (upload.code === '20006') {
      result.resent20006 += 1;
      resent.add(sessionID);
    } else if (upload.code !== '') {
      result.otherCodes[upload.code] = (result.otherCodes[upload.code] ?? 0) + 1;
    }
  }
  result.resentSessions = resent.size;
  for (const [sessionID, copies] of stored) if (copies.length > 1) result.duplicated.push(sessionID);

  for (const callback of callbacks) {
    result.sent += 1;
    if (callback.answerMs !== undefined) {
      result.slowestAnswerMs = Math.max(result.slowestAnswerMs ?? 0, callback.answerMs);
      if (callback.answerMs > ANSWER_LIMIT_MS) result.answeredSlowly += 1;
    }
    const copies = stored.get(callback.sessionID) ?? [];
    if (callback.answer === undefined) {
      result.inFlight += 1;
    } else if (callback.answer.kind === 'refused') {
      result.refused += 1;
      if (copies.length > 0) result.refusedButUploaded += 1;
    } else {
      result.accepted += 1;
      if (copies.length === 0) {
        result.pending.push(callback.sessionID);
        continue;
      }
      if (copies.length === 1) result.uploadedOnce += 1;
      const first = Math.min(...copies.map((c) => c.receivedAt.getTime()));
      if (first > callback.sentAt + DEADLINE_MS) result.late += 1;
    }
  }
  return result;
}
