import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { infraControl, startPipeline, type InfraControl, type Pipeline, type PipelineService } from '@ceb179/harness';
import { makeFixture, testInfra, vhostQueues, type SourceFixture } from '@ceb179/testkit';
import { makePlan, STALL_MS, type ChaosPlan, type InfraRestart } from './plan';
import { Random } from './random';
import { Supervisor } from './supervisor';
import { ANSWER_LIMIT_MS, tally, type SentCallback, type Tally } from './tally';

/**
 * `npm run chaos` — the proof of "nothing lost, nothing twice": every callback answered 10000
 * becomes exactly one upload at customs, whatever crashes.
 *
 * On a throw-away database, vhost and Redis db it starts the four services from dist (as
 * production runs them) with the customs and E-Port control simulators in this process, sends
 * CHAOS_CALLBACKS callbacks (default 500) at CHAOS_RATE per second (default 20) for orders of
 * payments covering one or two orders, and meanwhile SIGKILLs every service at least once (some
 * several times), starting each again after 0.5-3 s, restarts RabbitMQ (stop_app, 5-10 s,
 * start_app), Postgres and Redis once each, and stalls Postgres and Redis once each with SIGSTOP
 * for CHAOS_STALL_MS (default 15000; a hung server that keeps its connections), at different
 * moments. Then it waits up to CHAOS_TIMEOUT_S (default 240) for the pipeline to settle and
 * counts, printing how many uploads came later than two minutes and the slowest callback answer.
 * CHAOS_SEED replays a run's plan. Exit 0 only if nothing accepted was lost, nothing was stored
 * twice and every callback answered was answered within 2 s.
 *
 * It stops, stalls and starts the machine's RabbitMQ, Postgres and Redis (scripts/infra-up.sh's,
 * as root or through sudo): do not run it beside the test suite. They are left running at the end.
 */

const REDIS_DB = 15; // jest workers use 1..maxWorkers, the demo 0
const PROGRESS_EVERY_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Settings {
  callbacks: number;
  rate: number;
  seed: number;
  timeoutS: number;
  stallMs: number;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const number = (name: string, fallback: number, check: (n: number) => boolean, rule: string): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!check(value)) throw new Error(`${name}: ${rule}, got "${text}"`);
    return value;
  };
  return {
    callbacks: number('CHAOS_CALLBACKS', 500, (n) => Number.isInteger(n) && n > 0, 'must be a positive integer'),
    rate: number('CHAOS_RATE', 20, (n) => Number.isFinite(n) && n > 0 && n <= 1_000, 'must be a number of callbacks per second, 0 < rate <= 1000'),
    seed: number('CHAOS_SEED', 1 + Math.floor(Math.random() * 2_147_483_646), (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32, 'must be an integer 0..2^32-1'),
    timeoutS: number('CHAOS_TIMEOUT_S', 240, (n) => Number.isFinite(n) && n > 0, 'must be a positive number of seconds'),
    stallMs: number('CHAOS_STALL_MS', STALL_MS, (n) => Number.isInteger(n) && n >= 0, 'must be a number of milliseconds'),
  };
}

/** Payments of one order, and about one in five covering two, until there are `orders` orders. */
function makeFixtures(random: Random, orders: number, seed: number): SourceFixture[] {
  const fixtures: SourceFixture[] = [];
  const amounts = ['100.50', '7', '0.01', '12345678901234.12345', '88.8'];
  let count = 0;
  for (let i = 0; count < orders; i++) {
    const two = orders - count >= 2 && random.next() < 0.2;
    fixtures.push(makeFixture(`chaos${seed}-${i}`, { orders: two ? 2 : 1, amount: random.pick(amounts) }));
    count += two ? 2 : 1;
  }
  return fixtures;
}

class Clock {
  private readonly origin = Date.now();
  ms(): number {
    return Date.now() - this.origin;
  }
  say(line: string): void {
    process.stdout.write(`[${(this.ms() / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
  }
}

async function run(settings: Settings): Promise<number> {
  const clock = new Clock();
  const say = (line: string) => clock.say(line);
  const random = new Random(settings.seed);
  const sendMs = (settings.callbacks / settings.rate) * 1_000;
  const services: PipelineService[] = ['ingress', 'assembler', 'reporter', 'signer-0'];
  const plan = makePlan(random, { sendMs, services, stallMs: settings.stallMs });
  say(`chaos: ${settings.callbacks} callbacks at ${settings.rate}/s (${(sendMs / 1000).toFixed(1)} s), seed ${settings.seed} (CHAOS_SEED=${settings.seed} replays the plan)`);
  say(`plan: ${plan.kills.length} SIGKILLs (${countBy(plan.kills.map((k) => k.service))}); ${plan.infra.map(describeInfra).join(', then ')}`);

  const infra = await infraControl();
  await infra.ensureUp();
  const fixtures = makeFixtures(random, settings.callbacks, settings.seed);
  const orderNos = random.shuffle(fixtures.flatMap((f) => f.payment_order.map((o) => o.order_no)));
  say(`starting the pipeline: ${fixtures.length} payments, ${orderNos.length} orders, a fresh database, vhost and Redis db ${REDIS_DB}`);
  const pipeline = await startPipeline({
    cards: [{ algorithm: 'RSA' }],
    fixtures,
    redisUrl: `${testInfra.redisBaseUrl}/${REDIS_DB}`,
    logLabel: 'chaos',
  });
  const supervisors = new Map(services.map((s) => [s, new Supervisor(pipeline, s, say)] as const));
  const callbacks = new Map<string, SentCallback>();
  let phase = 'chaos';
  let infraState = '';

  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      for (const supervisor of supervisors.values()) await supervisor.stop();
      await infra.ensureUp().catch((error: unknown) => say(`WARNING: could not bring the infrastructure back: ${String(error)}`));
      await pipeline.stop();
      await forgetRedisKeys(`${testInfra.redisBaseUrl}/${REDIS_DB}`, [...callbacks.keys()]).catch(() => undefined);
    })());
  const onSignal = () => {
    say('interrupted: bringing RabbitMQ, Postgres and Redis back and dropping the test database and vhost');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const progress = setInterval(() => {
    const t = tally(callbacks.values(), pipeline.customs.uploads());
    const kills = [...supervisors.values()].reduce((n, s) => n + s.kills, 0);
    say(
      `${phase}: sent ${t.sent}/${settings.callbacks}, answered 10000 ${t.accepted}, answered other ${t.refused}` +
        `${t.inFlight ? ` (${t.inFlight} in flight)` : ''}, uploaded ${t.uploadedOnce + t.duplicated.length}, pending ${t.pending.length}, ` +
        `kills ${kills}${infraState ? `, ${infraState}` : ''}`,
    );
  }, PROGRESS_EVERY_MS);

  try {
    const started = Date.now();
    const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
    const sending = sendCallbacks(pipeline, orderNos, settings.rate, started, callbacks);
    const killing = runKills(plan, supervisors, at, say);
    const restarting = runInfra(plan.infra, infra, at, say, (state) => (infraState = state));
    await Promise.all([sending, killing, restarting]);
    phase = 'settling';
    say('chaos over: waiting for every service to be up');
    for (const supervisor of supervisors.values()) {
      if (!(await supervisor.waitUp(120_000))) say(`WARNING: ${supervisor.service} is not up after 120 s`);
    }
    say(`waiting up to ${settings.timeoutS} s for the pipeline to settle`);
    const settled = await settle(pipeline, callbacks, settings.timeoutS * 1_000);
    clearInterval(progress);
    return await summarize(pipeline, settings, plan, supervisors, callbacks, settled, say);
  } finally {
    clearInterval(progress);
    say('cleaning up: RabbitMQ, Postgres and Redis left running; test database and vhost dropped');
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function sendCallbacks(pipeline: Pipeline, orderNos: string[], rate: number, started: number, callbacks: Map<string, SentCallback>): Promise<void> {
  const calls: Array<Promise<void>> = [];
  for (let i = 0; i < orderNos.length; i++) {
    await sleep(Math.max(0, started + (i * 1_000) / rate - Date.now()));
    const callback: SentCallback = { sessionID: randomUUID().replace(/-/g, ''), orderNo: orderNos[i] as string, sentAt: Date.now() };
    callbacks.set(callback.sessionID, callback);
    calls.push(
      pipeline.customs
        .fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo: callback.orderNo, sessionID: callback.sessionID })
        .then(
          (result) => {
            callback.answerMs = Date.now() - callback.sentAt;
            const code = (result.body as { code?: unknown } | null)?.code;
            callback.answer = code === '10000' && result.httpStatus === 200
              ? { kind: 'accepted' }
              : { kind: 'refused', detail: `HTTP ${result.httpStatus} code ${String(code)}` };
          },
          (error: unknown) => {
            callback.answer = { kind: 'refused', detail: error instanceof Error ? error.message : String(error) };
          },
        ),
    );
  }
  await Promise.all(calls);
}

/** Kills run at their moments; kills of one service wait for its previous restart to be up. */
async function runKills(plan: ChaosPlan, supervisors: Map<PipelineService, Supervisor>, at: (ms: number) => Promise<unknown>, say: (line: string) => void): Promise<void> {
  const chains = new Map<string, Promise<void>>();
  for (const kill of plan.kills) {
    const supervisor = supervisors.get(kill.service as PipelineService) as Supervisor;
    const previous = chains.get(kill.service) ?? Promise.resolve();
    chains.set(kill.service, previous.then(async () => {
      await at(kill.atMs);
      if (!(await supervisor.waitUp(120_000))) {
        say(`${kill.service} did not come up within 120 s; kill skipped`);
        return;
      }
      await supervisor.kill(kill.downMs);
    }));
  }
  await Promise.all(chains.values());
}

/** Infrastructure restarts one after another, never two at once, at least 2 s apart. */
async function runInfra(events: InfraRestart[], infra: InfraControl, at: (ms: number) => Promise<unknown>, say: (line: string) => void, state: (s: string) => void): Promise<void> {
  let nextAllowed = 0;
  for (const event of events) {
    await at(event.atMs);
    await sleep(Math.max(0, nextAllowed - Date.now()));
    const begun = Date.now();
    switch (event.kind) {
      case 'rabbitmq':
        say('rabbitmqctl stop_app');
        state('RabbitMQ down');
        await infra.stopRabbit();
        await sleep(event.downMs);
        say('rabbitmqctl start_app');
        state('RabbitMQ starting');
        await infra.startRabbit();
        say(`RabbitMQ back after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      case 'postgres':
        say('restarting Postgres');
        state('Postgres restarting');
        await infra.restartPostgres();
        say(`Postgres back after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      case 'redis':
        say('restarting Redis (shutdown nosave: its keys are gone)');
        state('Redis restarting');
        await infra.restartRedis();
        say(`Redis back after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      case 'postgres-stall':
      case 'redis-stall': {
        const service = event.kind === 'postgres-stall' ? 'postgres' : 'redis';
        const name = service === 'postgres' ? 'Postgres' : 'Redis';
        say(`stalling ${name} (SIGSTOP) for ${(event.downMs / 1000).toFixed(1)} s`);
        state(`${name} stalled`);
        try {
          await infra.stall(service);
          await sleep(event.downMs);
        } finally {
          await infra.resume(service);
        }
        say(`${name} answering again (SIGCONT) after ${((Date.now() - begun) / 1000).toFixed(1)} s`);
        break;
      }
    }
    state('');
    nextAllowed = Date.now() + 2_000;
  }
}

/**
 * Waits until every accepted callback is stored at customs and the pipeline is quiet (no message
 * left in any queue but the dead letters, no ledger row still on its way), twice in a row 5 s
 * apart (the management API's counts lag), so a late second upload would still be seen.
 */
async function settle(pipeline: Pipeline, callbacks: Map<string, SentCallback>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  let quietBefore = false;
  while (Date.now() < until) {
    const t = tally(callbacks.values(), pipeline.customs.uploads());
    const quiet = t.pending.length === 0 && t.inFlight === 0 && (await pipelineQuiet(pipeline).catch(() => false));
    if (quiet && quietBefore) return true;
    quietBefore = quiet;
    await sleep(quiet ? 5_000 : 1_000);
  }
  return false;
}

async function pipelineQuiet(pipeline: Pipeline): Promise<boolean> {
  const queues = await vhostQueues(pipeline.vhost.name);
  if (queues.some((q) => q.name !== 'ceb179.dead-letters' && q.name !== 'ceb179.signer-heartbeats' && q.messages > 0)) return false;
  const { rows } = await pipeline.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM ceb179.request WHERE status IN ('received', 'assembled', 'signed')",
  );
  return rows[0]?.n === 0;
}

async function summarize(
  pipeline: Pipeline,
  settings: Settings,
  plan: ChaosPlan,
  supervisors: Map<PipelineService, Supervisor>,
  callbacks: Map<string, SentCallback>,
  settled: boolean,
  say: (line: string) => void,
): Promise<number> {
  const t: Tally = tally(callbacks.values(), pipeline.customs.uploads());
  const deadLetters = (await vhostQueues(pipeline.vhost.name).catch(() => [])).find((q) => q.name === 'ceb179.dead-letters')?.messages ?? 0;
  const ledger = await pipeline.pool
    .query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM ceb179.request GROUP BY status ORDER BY status')
    .then((r) => r.rows.map((row) => `${row.status} ${row.n}`).join(', '), (error: unknown) => `unreadable (${String(error)})`);
  const kills = [...supervisors.values()];
  const unexpected = kills.flatMap((s) => s.unexpectedExits);
  const lost = t.pending;
  if (!settled) say(`the pipeline did not settle within ${settings.timeoutS} s`);

  const line = (label: string, value: string | number) => process.stdout.write(`  ${label.padEnd(38)}${value}\n`);
  process.stdout.write(`\n=== chaos summary: ${settings.callbacks} callbacks at ${settings.rate}/s, seed ${settings.seed} ===\n`);
  line('disruptions:', `${kills.reduce((n, s) => n + s.kills, 0)} SIGKILLs (${kills.map((s) => `${s.service} ${s.kills}`).join(', ')}); ${plan.infra.map(describeInfra).join(', ')}`);
  line('exits on their own (restarted):', unexpected.length === 0 ? 0 : `${unexpected.length} (see below)`);
  line('accepted (answered 10000):', t.accepted);
  line('refused (20000 or transport error):', `${t.refused} (not promised; ${t.refusedButUploaded} of them recorded before the refusal and uploaded once)`);
  for (const [reason, n] of refusalReasons(callbacks.values())) process.stdout.write(`    ${n} x ${reason}\n`);
  line('uploaded exactly once:', t.uploadedOnce);
  line('lost:', lost.length);
  line('duplicated:', t.duplicated.length);
  line('re-sent, answered 20006:', `${t.resent20006} (${t.resentSessions} sessionIDs)`);
  line('uploaded later than 2 minutes:', `${t.late} of ${t.uploadedOnce + t.duplicated.length}`);
  line('slowest callback answer:', t.slowestAnswerMs === undefined ? '-' : `${t.slowestAnswerMs} ms (${t.answeredSlowly} answered after more than ${ANSWER_LIMIT_MS / 1000} s)`);
  line('unverified signatures:', t.unverified);
  if (Object.keys(t.otherCodes).length > 0) line('other customs answers:', JSON.stringify(t.otherCodes));
  line('dead letters:', deadLetters);
  line('ledger:', ledger);
  line('settled (queues empty, ledger final):', settled ? 'yes' : `NO, not within ${settings.timeoutS} s`);
  for (const [exit, n] of countLines(unexpected)) process.stdout.write(`  ${n} x ${exit}\n`);
  if (lost.length > 0) {
    const rows = await pipeline.pool
      .query<{ session_id: string; status: string; reason: string | null }>('SELECT session_id, status, reason FROM ceb179.request WHERE session_id = ANY($1)', [lost])
      .then((r) => new Map(r.rows.map((row) => [row.session_id, row])), () => new Map<string, { status: string; reason: string | null }>());
    process.stdout.write('  lost sessionIDs (ledger status):\n');
    for (const sessionID of lost) {
      const row = rows.get(sessionID);
      process.stdout.write(`    ${sessionID} order ${callbacks.get(sessionID)?.orderNo}: ${row ? `${row.status}${row.reason ? ` (${row.reason})` : ''}` : 'no ledger row'}\n`);
    }
  }
  if (t.duplicated.length > 0) process.stdout.write(`  duplicated sessionIDs:\n${t.duplicated.map((s) => `    ${s}\n`).join('')}`);
  process.stdout.write(`  service logs: .test-logs/chaos-*.log\n`);
  const pass = lost.length === 0 && t.duplicated.length === 0 && t.answeredSlowly === 0;
  process.stdout.write(
    pass
      ? `RESULT: PASS - nothing lost, nothing twice, every answer within ${ANSWER_LIMIT_MS / 1000} s\n`
      : `RESULT: FAIL - ${lost.length} lost, ${t.duplicated.length} duplicated, ${t.answeredSlowly} answered after more than ${ANSWER_LIMIT_MS / 1000} s\n`,
  );
  return pass ? 0 : 1;
}

/** Why calls were refused, most frequent first (customs-sim's transport messages carry the URL: dropped). */
function refusalReasons(callbacks: Iterable<SentCallback>): Array<[string, number]> {
  const reasons: string[] = [];
  for (const c of callbacks) if (c.answer?.kind === 'refused') reasons.push(c.answer.detail.replace(/^callback to \S+ failed: /, ''));
  return countLines(reasons);
}

function countLines(lines: string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function describeInfra(event: InfraRestart): string {
  const seconds = `${(event.downMs / 1000).toFixed(1)} s`;
  switch (event.kind) {
    case 'rabbitmq':
      return `RabbitMQ stopped for ${seconds}`;
    case 'postgres-stall':
      return `Postgres stalled for ${seconds}`;
    case 'redis-stall':
      return `Redis stalled for ${seconds}`;
    default:
      return event.kind === 'postgres' ? 'Postgres restarted' : 'Redis restarted';
  }
}

function countBy(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

/** Removes the keys this run left in the shared Redis (ingress's duplicate hints, the signers' heartbeats). */
async function forgetRedisKeys(url: string, sessionIDs: string[]): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    for (let i = 0; i < sessionIDs.length; i += 500) {
      const keys = sessionIDs.slice(i, i + 500).map((s) => `ceb179:callback:${s}`);
      if (keys.length > 0) await redis.del(...keys);
    }
    const signers = (await redis.zrange('ceb179:signers:last-seen', '0', '-1')).filter((id) => id.startsWith('signer-0-'));
    if (signers.length > 0) {
      await redis.zrem('ceb179:signers:last-seen', ...signers);
      await redis.del(...signers.map((id) => `ceb179:signer:${id}`));
    }
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  try {
    process.exit(await run(settings));
  } catch (error) {
    process.stderr.write(`chaos run failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(2);
  }
}

void main();
