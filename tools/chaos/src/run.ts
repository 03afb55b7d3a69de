import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { infraControl, startPipeline, type Pipeline, type PipelineService } from '@ceb179/harness';
import { Queues, RedisKeys } from '@ceb179/contracts';
import { makeFixture, testInfra, vhostQueues, type SourceFixture } from '@ceb179/testkit';
import { makePlan, type ChaosPlan } from './plan';
import { Random } from './random';
import { Clock, describePlan, planTimeline, progressLine, summarize, type ChaosOutcome } from './report';
import { CHAOS_REDIS_DB, CHAOS_SERVICES, sendDurationMs, type ChaosSettings } from './settings';
import { runInfra, runKills } from './disruptions';
import { Supervisor } from './supervisor';
import { tally, type SentCallback } from './tally';

const PROGRESS_EVERY_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The plan a seed gives: made first from the seeded random, so a dry run shows what a real run does. */
export function planOf(settings: ChaosSettings, random = new Random(settings.seed)): ChaosPlan {
  return makePlan(random, { sendMs: sendDurationMs(settings), services: CHAOS_SERVICES, stallMs: settings.stallMs });
}

/** Prints the plan of `settings` and touches nothing. */
export function dryRun(settings: ChaosSettings): number {
  const plan = planOf(settings);
  for (const line of describePlan(settings, plan)) process.stdout.write(`${line}\n`);
  process.stdout.write(
    `timeline (from the first callback; an infrastructure event waits for the one before it):\n${planTimeline(plan).join('\n')}\n`,
  );
  process.stdout.write('dry run: nothing started, stopped or sent\n');
  return 0;
}

/** One chaos run (see chaos.ts); resolves to the exit code, 0 only if it passed. */
export async function runChaos(settings: ChaosSettings): Promise<number> {
  const clock = new Clock();
  const say = (line: string) => clock.say(line);
  const random = new Random(settings.seed);
  const services = CHAOS_SERVICES;
  const plan = planOf(settings, random);
  for (const line of describePlan(settings, plan)) say(line);

  const infra = await infraControl();
  await infra.ensureUp();
  const fixtures = makeFixtures(random, settings.callbacks, settings.seed);
  const orderNos = random.shuffle(fixtures.flatMap((f) => f.payment_order.map((o) => o.order_no)));
  say(
    `starting the pipeline: ${fixtures.length} payments, ${orderNos.length} orders, a fresh database, vhost and Redis db ${CHAOS_REDIS_DB}`,
  );
  const pipeline = await startPipeline({
    cards: [{ algorithm: 'RSA' }],
    fixtures,
    redisUrl: `${testInfra.redisBaseUrl}/${CHAOS_REDIS_DB}`,
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
      await forgetRedisKeys(`${testInfra.redisBaseUrl}/${CHAOS_REDIS_DB}`, [...callbacks.keys()]).catch(() => undefined);
    })());
  const onSignal = () => {
    say('interrupted: bringing RabbitMQ, Postgres and Redis back and dropping the test database and vhost');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const progress = setInterval(() => {
    const kills = [...supervisors.values()].reduce((n, s) => n + s.kills, 0);
    say(progressLine(phase, settings, tally(callbacks.values(), pipeline.customs.uploads()), kills, infraState));
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
    if (!settled) say(`the pipeline did not settle within ${settings.timeoutS} s`);
    const { text, pass } = summarize(await gatherOutcome(pipeline, settings, plan, supervisors, callbacks, settled));
    process.stdout.write(text);
    return pass ? 0 : 1;
  } finally {
    clearInterval(progress);
    say('cleaning up: RabbitMQ, Postgres and Redis left running; test database and vhost dropped');
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function sendCallbacks(
  pipeline: Pipeline,
  orderNos: string[],
  rate: number,
  started: number,
  callbacks: Map<string, SentCallback>,
): Promise<void> {
  const calls: Array<Promise<void>> = [];
  for (let i = 0; i < orderNos.length; i++) {
    await sleep(Math.max(0, started + (i * 1_000) / rate - Date.now()));
    const callback: SentCallback = { sessionID: randomUUID().replace(/-/g, ''), orderNo: orderNos[i] as string, sentAt: Date.now() };
    callbacks.set(callback.sessionID, callback);
    calls.push(
      pipeline.customs.fireCallback({ ingressUrl: pipeline.ingressUrl, orderNo: callback.orderNo, sessionID: callback.sessionID }).then(
        (result) => {
          callback.answerMs = Date.now() - callback.sentAt;
          const code = (result.body as { code?: unknown } | null)?.code;
          callback.answer =
            code === '10000' && result.httpStatus === 200
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
  if (queues.some((q) => q.name !== Queues.deadLetters && q.name !== Queues.signerHeartbeats && q.messages > 0)) return false;
  const { rows } = await pipeline.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM ceb179.request WHERE status IN ('received', 'assembled', 'signed')",
  );
  return rows[0]?.n === 0;
}

/** What the summary reports, read from customs-sim, RabbitMQ and the ledger once the run is over. */
async function gatherOutcome(
  pipeline: Pipeline,
  settings: ChaosSettings,
  plan: ChaosPlan,
  supervisors: Map<PipelineService, Supervisor>,
  callbacks: Map<string, SentCallback>,
  settled: boolean,
): Promise<ChaosOutcome> {
  const t = tally(callbacks.values(), pipeline.customs.uploads());
  const deadLetters = (await vhostQueues(pipeline.vhost.name).catch(() => [])).find((q) => q.name === Queues.deadLetters)?.messages ?? 0;
  const ledger = await pipeline.pool
    .query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM ceb179.request GROUP BY status ORDER BY status')
    .then(
      (r) => r.rows.map((row) => `${row.status} ${row.n}`).join(', '),
      (error: unknown) => `unreadable (${String(error)})`,
    );
  const lostRows =
    t.pending.length === 0
      ? new Map<string, { status: string; reason: string | null }>()
      : await pipeline.pool
          .query<{ session_id: string; status: string; reason: string | null }>(
            'SELECT session_id, status, reason FROM ceb179.request WHERE session_id = ANY($1)',
            [t.pending],
          )
          .then(
            (r) => new Map(r.rows.map((row) => [row.session_id, row])),
            () => new Map<string, { status: string; reason: string | null }>(),
          );
  const all = [...supervisors.values()];
  return {
    settings,
    plan,
    tally: t,
    callbacks,
    killsByService: all.map((s) => ({ service: s.service, kills: s.kills })),
    unexpectedExits: all.flatMap((s) => s.unexpectedExits),
    deadLetters,
    ledger,
    lostRows,
    settled,
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

/** Removes the keys this run left in the shared Redis (ingress's duplicate hints, the signers' heartbeats). */
async function forgetRedisKeys(url: string, sessionIDs: string[]): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    for (let i = 0; i < sessionIDs.length; i += 500) {
      const keys = sessionIDs.slice(i, i + 500).map((s) => RedisKeys.callback(s));
      if (keys.length > 0) await redis.del(...keys);
    }
    const signers = (await redis.zrange(RedisKeys.signersLastSeen, '0', '-1')).filter((id) => id.startsWith('signer-0-'));
    if (signers.length > 0) {
      await redis.zrem(RedisKeys.signersLastSeen, ...signers);
      await redis.del(...signers.map((id) => RedisKeys.signer(id)));
    }
  } finally {
    redis.disconnect();
  }
}
