import { authenticateSignJob, SCHEMA_VERSION, type SignJobMessage } from '@ceb179/contracts';
import { SignJobAuthenticity } from './sign-job-authenticity';

const KEY = 'k'.repeat(32);
const NOW = Date.parse('2026-01-01T00:01:00.000Z');

function job(overrides: Partial<Omit<SignJobMessage, 'mac'>> = {}, key = KEY): SignJobMessage {
  return authenticateSignJob(key, {
    v: SCHEMA_VERSION,
    sessionID: 's-1',
    ebpCode: 'EBPA',
    signString: '"sessionID":"s-1"||...',
    deadline: '2026-01-01T00:02:00.000Z',
    ...overrides,
  });
}

describe('sign job authenticity', () => {
  const check = new SignJobAuthenticity({ key: KEY, ebpCodes: ['EBPA'], deadlineGraceMs: 0, now: () => NOW });

  it('accepts a job the assembler made, for an ebpCode of this card, before its deadline', () => {
    expect(check.problem(job())).toBeUndefined();
  });

  it.each([
    ['no MAC', { ...job(), mac: undefined as unknown as string }, /no MAC/],
    ['an empty MAC', { ...job(), mac: '' }, /no MAC/],
    ['a MAC made with another key', job({}, 'x'.repeat(32)), /MAC does not match/],
    ['an altered sign string', { ...job(), signString: '"sessionID":"s-1"||evil' }, /MAC does not match/],
    ['an altered deadline', { ...job(), deadline: '2027-01-01T00:00:00.000Z' }, /MAC does not match/],
    ['an altered ebpCode', { ...job({ ebpCode: 'EBPB' }), ebpCode: 'EBPA' }, /MAC does not match/],
    ['a valid job replayed onto the queue of another ebpCode', job({ ebpCode: 'EBPB' }), /does not sign for ebpCode EBPB/],
    ['a deadline that has passed', job({ deadline: '2026-01-01T00:00:59.000Z' }), /deadline passed 1 s ago/],
    ['a deadline that is no timestamp', job({ deadline: 'tomorrow' }), /not a timestamp/],
    ['an ebpCode over 18 characters', job({ ebpCode: 'E'.repeat(19) }), /ebpCode is longer than 18/],
    ['a sessionID over 128 characters', job({ sessionID: 's'.repeat(129) }), /sessionID is longer than 128/],
    ['a sign string over 1 MiB', job({ signString: 'x'.repeat(1_048_577) }), /signString is longer than/],
  ] as Array<[string, SignJobMessage, RegExp]>)('refuses %s', (_name, forged, reason) => {
    expect(check.problem(forged)).toMatch(reason);
  });

  it('signs a late job within the configured grace, and a card serving all ebpCodes any ebpCode', () => {
    const lenient = new SignJobAuthenticity({ key: KEY, ebpCodes: [], deadlineGraceMs: 60_000, now: () => NOW });
    expect(lenient.problem(job({ ebpCode: 'EBPZ', deadline: '2026-01-01T00:00:30.000Z' }))).toBeUndefined();
  });
});
