import { dryRun, runChaos } from './run';
import { readSettings, type ChaosSettings } from './settings';

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
 *
 * `npm run chaos:plan` (node tools/chaos/dist/chaos.js --dry-run) prints the plan a seed gives and
 * touches nothing.
 */

async function main(): Promise<void> {
  let settings: ChaosSettings;
  try {
    settings = readSettings(process.env, process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  if (settings.dryRun) process.exit(dryRun(settings));
  try {
    process.exit(await runChaos(settings));
  } catch (error) {
    process.stderr.write(`chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  }
}

void main();
