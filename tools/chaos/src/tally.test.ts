import { tally, type ReceivedUpload, type SentCallback } from './tally';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const sent = (sessionID: string, answer: SentCallback['answer']): SentCallback => ({
  sessionID,
  orderNo: `SO-${sessionID}`,
  sentAt: t0,
  ...(answer ? { answer } : {}),
});
const upload = (sessionID: string, code: string, afterMs = 1_000, verified = true): ReceivedUpload => ({
  sessionID,
  code,
  verified,
  receivedAt: new Date(t0 + afterMs),
});
const accepted = { kind: 'accepted' } as const;
const refused = { kind: 'refused', detail: 'socket hang up' } as const;

describe('the chaos tally', () => {
  it('counts what was promised and what customs stored', () => {
    const result = tally(
      [sent('a', accepted), sent('b', accepted), sent('c', accepted), sent('d', refused), sent('e', refused), sent('f', undefined)],
      [
        upload('a', '10000'),
        upload('a', '20006', 40_000), // a resend customs refused: not a duplicate
        upload('b', '10000', 130_000), // late
        upload('d', '10000'), // refused, but recorded before the refusal: allowed once
        upload('x', '', 10), // an injected transport fault: never judged
      ],
    );
    expect(result).toMatchObject({
      sent: 6,
      inFlight: 1,
      accepted: 3,
      refused: 2,
      uploadedOnce: 2,
      pending: ['c'],
      duplicated: [],
      resent20006: 1,
      resentSessions: 1,
      late: 1,
      refusedButUploaded: 1,
      unverified: 0,
      otherCodes: {},
      slowestAnswerMs: undefined,
      answeredSlowly: 0,
    });
  });

  it('reports the slowest answer and how many took longer than 2 s', () => {
    const timed = (sessionID: string, answerMs: number): SentCallback => ({ ...sent(sessionID, accepted), answerMs });
    const result = tally([timed('a', 30), timed('b', 2_400), timed('c', 1_999), sent('d', undefined)], []);
    expect(result).toMatchObject({ slowestAnswerMs: 2_400, answeredSlowly: 1 });
  });

  it('reports a sessionID stored twice as duplicated, accepted or not, and answers other than 10000/20006', () => {
    const result = tally(
      [sent('a', accepted), sent('b', refused)],
      [
        upload('a', '10000'),
        upload('a', '10000', 2_000),
        upload('b', '10000'),
        upload('b', '10000'),
        upload('a', '20000'),
        upload('b', '10000', 5, false),
      ],
    );
    expect(result.duplicated.sort()).toEqual(['a', 'b']);
    expect(result.uploadedOnce).toBe(0);
    expect(result.pending).toEqual([]);
    expect(result.otherCodes).toEqual({ '20000': 1 });
    expect(result.unverified).toBe(1);
  });
});
