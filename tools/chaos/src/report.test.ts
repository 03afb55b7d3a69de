import type { ChaosPlan } from './plan';
import { describePlan, planTimeline, summarize, type ChaosOutcome } from './report';
import { readSettings } from './settings';
import { tally, type SentCallback } from './tally';

const settings = readSettings({ CHAOS_CALLBACKS: '3', CHAOS_RATE: '1', CHAOS_SEED: '9' });
const plan: ChaosPlan = {
  kills: [{ atMs: 2_000, service: 'ingress', downMs: 500 }],
  infra: [
    { atMs: 1_000, kind: 'rabbitmq', downMs: 6_000 },
    { atMs: 1_500, kind: 'postgres', downMs: 0 },
  ],
};

function outcome(callbacks: SentCallback[], uploads: { sessionID: string; code: string }[]): ChaosOutcome {
  const byId = new Map(callbacks.map((c) => [c.sessionID, c]));
  const received = uploads.map((u) => ({ ...u, verified: true, receivedAt: new Date(1_000) }));
  return {
    settings,
    plan,
    tally: tally(byId.values(), received),
    callbacks: byId,
    killsByService: [{ service: 'ingress', kills: 1 }],
    unexpectedExits: [],
    deadLetters: 0,
    ledger: 'uploaded 2',
    lostRows: new Map([['s3', { status: 'signed', reason: null }]]),
    settled: true,
  };
}

const accepted = (sessionID: string): SentCallback => ({
  sessionID,
  orderNo: `o-${sessionID}`,
  sentAt: 0,
  answerMs: 100,
  answer: { kind: 'accepted' },
});

describe('chaos report', () => {
  it('passes when every accepted callback was uploaded exactly once', () => {
    const { text, pass } = summarize(
      outcome(
        [accepted('s1'), accepted('s2')],
        [
          { sessionID: 's1', code: '10000' },
          { sessionID: 's2', code: '10000' },
        ],
      ),
    );
    expect(pass).toBe(true);
    expect(text).toMatch(/uploaded exactly once: +2\n/);
    expect(text).toContain('RESULT: PASS');
  });

  it('fails naming the lost (with its ledger status) and the duplicated sessionIDs', () => {
    const { text, pass } = summarize(
      outcome(
        [accepted('s1'), accepted('s3')],
        [
          { sessionID: 's1', code: '10000' },
          { sessionID: 's1', code: '10000' },
        ],
      ),
    );
    expect(pass).toBe(false);
    expect(text).toContain('s3 order o-s3: signed');
    expect(text).toContain('duplicated sessionIDs:\n    s1\n');
    expect(text).toContain('RESULT: FAIL - 1 lost, 1 duplicated, 0 answered after more than 2 s');
  });

  it('fails when a callback was answered after the limit', () => {
    const slow = { ...accepted('s1'), answerMs: 2_500 };
    expect(summarize(outcome([slow], [{ sessionID: 's1', code: '10000' }])).pass).toBe(false);
  });

  it('announces the plan and lists its timeline in time order', () => {
    expect(describePlan(settings, plan)[1]).toBe('plan: 1 SIGKILLs (ingress 1); RabbitMQ stopped for 6.0 s, then Postgres restarted');
    expect(planTimeline(plan).map((l) => l.trim())).toEqual([
      '1.0 s  RabbitMQ stopped for 6.0 s',
      '1.5 s  Postgres restarted',
      '2.0 s  SIGKILL ingress, started again after 0.5 s',
    ]);
  });
});
