import { deadlineOf, type RequestTimeline } from './ledger';
import { resendRefusal } from './resend';

const at = (iso: string) => new Date(iso);

describe('deadlineOf', () => {
  const deadline_at = at('2026-01-01T00:02:00.000Z');
  const updated_at = at('2026-01-01T00:03:00.000Z');

  it('measures an upload against the deadline: inside or late by how much', () => {
    expect(
      deadlineOf({ status: 'uploaded', deadline_at, uploaded_at: at('2026-01-01T00:01:30.000Z'), updated_at }, new Date()),
    ).toMatchObject({ verdict: 'inside', marginMs: 30_000 });
    expect(
      deadlineOf({ status: 'uploaded', deadline_at, uploaded_at: at('2026-01-01T00:02:05.500Z'), updated_at }, new Date()),
    ).toMatchObject({ verdict: 'late', marginMs: -5_500 });
  });

  it('counts down a request in flight, and marks it missed once past the deadline', () => {
    expect(deadlineOf({ status: 'signed', deadline_at, uploaded_at: null, updated_at }, at('2026-01-01T00:01:00.000Z'))).toEqual({
      deadlineAt: deadline_at.toISOString(),
      marginMs: 60_000,
      verdict: 'open',
      settledAt: null,
    });
    expect(deadlineOf({ status: 'assembled', deadline_at, uploaded_at: null, updated_at }, at('2026-01-01T00:02:01.000Z'))).toMatchObject({
      verdict: 'missed',
      marginMs: -1_000,
      settledAt: null,
    });
  });

  it('a final fault missed the deadline, settled when it ended', () => {
    expect(deadlineOf({ status: 'data_fault', deadline_at, uploaded_at: null, updated_at }, new Date())).toMatchObject({
      verdict: 'missed',
      settledAt: updated_at.toISOString(),
    });
  });
});

describe('resendRefusal', () => {
  const timeline = (status: string, codes: (string | null)[] = []): RequestTimeline => ({
    sessionID: 's-1',
    orderNo: 'o-1',
    status,
    reason: null,
    ebpCode: 'E',
    guid: null,
    customsServiceTime: null,
    serviceTime: null,
    certNo: null,
    signerId: null,
    customsCode: null,
    customsMessage: null,
    late: false,
    receivedAt: '',
    updatedAt: '',
    stages: [],
    deadline: { deadlineAt: '', marginMs: 0, verdict: 'missed', settledAt: null },
    attempts: codes.map((code) => ({
      attemptedAt: 't',
      latencyMs: 1,
      httpStatus: 200,
      customsCode: code,
      customsMessage: null,
      outcome: 'x',
      error: null,
    })),
  });

  it('refuses what customs holds: uploaded, or any attempt answered 10000 or 20006', () => {
    expect(resendRefusal(timeline('uploaded', ['10000']))).toContain('customs already holds s-1');
    expect(resendRefusal(timeline('upload_rejected', [null, '20006']))).toContain('answered 20006');
    expect(resendRefusal(timeline('config_fault', ['10000']))).toContain('answered 10000');
  });

  it('refuses what has no signed document, and allows a rejected or config-fault upload', () => {
    expect(resendRefusal(timeline('received'))).toContain('not been signed yet');
    expect(resendRefusal(timeline('assembled'))).toContain('not been signed yet');
    expect(resendRefusal(timeline('data_fault'))).toContain('no document was built');
    expect(resendRefusal(timeline('upload_rejected', [null, '20000']))).toBeNull();
    expect(resendRefusal(timeline('config_fault', ['20004']))).toBeNull();
    expect(resendRefusal(timeline('signed'))).toBeNull();
  });
});
