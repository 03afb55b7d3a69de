import { commonSettings, loadConfig } from '@ceb179/config';
import { createLogger } from '@ceb179/logger';
import { createPool } from './pool';
import { migrate } from './migrate';

/** `npm run migrate`: creates or updates the ledger tables; reads CEB179_DATABASE_URL. */
async function main(): Promise<void> {
  const config = loadConfig({ databaseUrl: commonSettings.databaseUrl, logLevel: commonSettings.logLevel });
  const logger = createLogger({ service: 'migrate', level: config.logLevel });
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-migrate', max: 1 });
  try {
    const applied = await migrate(pool);
    logger.info({ applied: applied.map((m) => `${m.version}-${m.name}`) }, applied.length ? 'migrations applied' : 'ledger is up to date');
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
