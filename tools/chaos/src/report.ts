import type { ChaosPlan, InfraRestart } from './plan';
import type { ChaosSettings } from './settings';
import { sendDurationMs } from './settings';
import { ANSWER_LIMIT_MS, type SentCallback, type Tally } from './tally';

/** Progress lines stamped with the seconds since the run began. */
export class Clock {
  private readonly origin = Date.now();
  ms(): number {
    return Date.now() - this.origin;
  }
  say(line: string): void {
    process.stdout.write(`[${(this.ms() / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
  }
}

/** The two lines announcing a run (and all a dry run prints). */
export function describePlan(settings: ChaosSettings, plan: ChaosPlan): string[] {
  return [
    `chaos: ${settings.callbacks} callbacks at ${settings.rate}/s (${(sendDurationMs(settings) / 1000).toFixed(1)} s), seed ${settings.seed} (CHAOS_SEED=${settings.seed} replays the plan)`,
    `plan: ${plan.kills.length} SIGKILLs (${countBy(plan.kills.map((k) => k.service))}); ${plan.infra.map(describeInfra).join(', then ')}`,
  ];
}

/** Every disruption at its moment, for a dry run. */
export function planTimeline(plan: ChaosPlan): string[] {
  const events = [
    ...plan.kills.map((k) => ({ atMs: k.atMs, text: `SIGKILL ${k.service}, started again after ${(k.downMs / 1000).toFixed(1)} s` })),
    ...plan.infra.map((e) => ({ atMs: e.atMs, text: describeInfra(e) })),
  ].sort((a, b) => a.atMs - b.atMs);
  return events.map((e) => `  ${`${(e.atMs / 1000).toFixed(1)} s`.padStart(9)}  ${e.text}`);
}

export function progressLine(phase: string, settings: ChaosSettings, t: Tally, kills: number, infraState: string): string {
  return (
    `${phase}: sent ${t.sent}/${settings.callbacks}, answered 10000 ${t.accepted}, answered other ${t.refused}` +
    `${t.inFlight ? ` (${t.inFlight} in flight)` : ''}, uploaded ${t.uploadedOnce + t.duplicated.length}, pending ${t.pending.length}, ` +
    `kills ${kills}${infraState ? `, ${infraState}` : ''}`
  );
}

/** Everything the summary reports, gathered at the end of a run. */
export interface ChaosOutcome {
  settings: ChaosSettings;
  plan: ChaosPlan;
  tally: Tally;
  callbacks: ReadonlyMap<string, SentCallback>;
  killsByService: { service: string; kills: number }[];
  /** Exits the run did not cause, with what the process printed last. */
  unexpectedExits: string[];
  deadLetters: number;
  /** Ledger rows by status, as one line. */
  ledger: string;
  /** The ledger row of each lost sessionID that has one. */
  lostRows: ReadonlyMap<string, { status: string; reason: string | null }>;
  settled: boolean;
}

/** The summary text, and whether the run passed: nothing lost, nothing twice, every answer in time. */
export function summarize(outcome: ChaosOutcome): { text: string; pass: boolean } {
  const { settings, plan, tally: t, callbacks, unexpectedExits: unexpected } = outcome;
  const out: string[] = [];
  const line = (label: string, value: string | number) => out.push(`  ${label.padEnd(38)}${value}\n`);
  const lost = t.pending;
  out.push(`\n=== chaos summary: ${settings.callbacks} callbacks at ${settings.rate}/s, seed ${settings.seed} ===\n`);
  const kills = outcome.killsByService;
  line(
    'disruptions:',
    `${kills.reduce((n, s) => n + s.kills, 0)} SIGKILLs (${kills.map((s) => `${s.service} ${s.kills}`).join(', ')}); ${plan.infra.map(describeInfra).join(', ')}`,
  );
  line('exits on their own (restarted):', unexpected.length === 0 ? 0 : `${unexpected.length} (see below)`);
  line('accepted (answered 10000):', t.accepted);
  line(
    'refused (20000 or transport error):',
    `${t.refused} (not promised; ${t.refusedButUploaded} of them recorded before the refusal and uploaded once)`,
  );
  for (const [reason, n] of refusalReasons(callbacks.values())) out.push(`    ${n} x ${reason}\n`);
  line('uploaded exactly once:', t.uploadedOnce);
  line('lost:', lost.length);
  line('duplicated:', t.duplicated.length);
  line('re-sent, answered 20006:', `${t.resent20006} (${t.resentSessions} sessionIDs)`);
  line('uploaded later than 2 minutes:', `${t.late} of ${t.uploadedOnce + t.duplicated.length}`);
  line(
    'slowest callback answer:',
    t.slowestAnswerMs === undefined
      ? '-'
      : `${t.slowestAnswerMs} ms (${t.answeredSlowly} answered after more than ${ANSWER_LIMIT_MS / 1000} s)`,
  );
  line('unverified signatures:', t.unverified);
  if (Object.keys(t.otherCodes).length > 0) line('other customs answers:', JSON.stringify(t.otherCodes));
  line('dead letters:', outcome.deadLetters);
  line('ledger:', outcome.ledger);
  line('settled (queues empty, ledger final):', outcome.settled ? 'yes' : `NO, not within ${settings.timeoutS} s`);
  for (const [exit, n] of countLines(unexpected)) out.push(`  ${n} x ${exit}\n`);
  if (lost.length > 0) {
    out.push('  lost sessionIDs (ledger status):\n');
    for (const sessionID of lost) {
      const row = outcome.lostRows.get(sessionID);
      out.push(
        `    ${sessionID} order ${callbacks.get(sessionID)?.orderNo}: ${row ? `${row.status}${row.reason ? ` (${row.reason})` : ''}` : 'no ledger row'}\n`,
      );
    }
  }
  if (t.duplicated.length > 0) out.push(`  duplicated sessionIDs:\n${t.duplicated.map((s) => `    ${s}\n`).join('')}`);
  out.push(`  service logs: .test-logs/chaos-*.log\n`);
  const pass = lost.length === 0 && t.duplicated.length === 0 && t.answeredSlowly === 0;
  out.push(
    pass
      ? `RESULT: PASS - nothing lost, nothing twice, every answer within ${ANSWER_LIMIT_MS / 1000} s\n`
      : `RESULT: FAIL - ${lost.length} lost, ${t.duplicated.length} duplicated, ${t.answeredSlowly} answered after more than ${ANSWER_LIMIT_MS / 1000} s\n`,
  );
  return { text: out.join(''), pass };
}

/** Why calls were refused, most frequent first (customs-sim's transport messages carry the URL: dropped). */
export function refusalReasons(callbacks: Iterable<SentCallback>): Array<[string, number]> {
  const reasons: string[] = [];
  for (const c of callbacks) if (c.answer?.kind === 'refused') reasons.push(c.answer.detail.replace(/^callback to \S+ failed: /, ''));
  return countLines(reasons);
}

function countLines(lines: string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

export function describeInfra(event: InfraRestart): string {
  const seconds = `${(event.downMs / 1000).toFixed(1)} s`;
  switch (event.kind) {
    case 'rabbitmq':
      return `RabbitMQ stopped for ${seconds}`;
    case 'postgres-stall':
      return `Postgres stalled for ${seconds}`;
    case 'redis-stall':
      return `Redis stalled for ${seconds}`;
    case 'postgres':
      return 'Postgres restarted';
    case 'redis':
      return 'Redis restarted';
  }
}

function countBy(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}
