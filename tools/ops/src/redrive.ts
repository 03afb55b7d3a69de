import { commonSettings, loadConfig } from '@ceb179/config';
import { Queues } from '@ceb179/contracts';
import { redrive } from '@ceb179/operator';

/**
 * `npm run redrive` — moves the messages in ceb179.dead-letters back to the queue each came from,
 * once the cause is fixed (`npm run status` shows how many there are; the logs and the header
 * x-ceb179-dead-letter-reason say why). `npm run redrive -- --queue ceb179.callbacks` takes only
 * those of one queue, `--limit N` at most N. Reads CEB179_AMQP_URL (a user that may read the
 * dead-letter queue and write to the work queues, e.g. the administrator's).
 */
function parseArgs(argv: string[]): { fromQueue?: string; limit?: number } {
  const options: { fromQueue?: string; limit?: number } = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--queue' && value) {
      options.fromQueue = value;
      i += 1;
    } else if (arg === '--limit' && value && /^\d+$/.test(value)) {
      options.limit = Number(value);
      i += 1;
    } else {
      throw new Error(`unknown argument ${arg ?? ''}; usage: npm run redrive [-- --queue <source queue>] [--limit <n>]`);
    }
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const config = loadConfig({ amqpUrl: commonSettings.amqpUrl });
  // The same re-drive as the CLI's and the console's: only what is dead now, bounded waits.
  const result = await redrive(config.amqpUrl, options);
  const moved = Object.entries(result.moved);
  if (moved.length === 0) console.log('no dead letters moved');
  for (const [queue, n] of moved) console.log(`moved ${n} back to ${queue}`);
  if (result.left > 0) console.log(`${result.left} left in ${Queues.deadLetters} (another source queue, or none recorded)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`redrive failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
