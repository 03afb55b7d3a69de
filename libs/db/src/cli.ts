import { commonSettings, loadConfig } from '@ceb179/config';
import { createLogger } from '@ceb179/logger';
import { createPool } from './pool';
import { migrate } from './migrate';

/**
 * `npm run migrate`: creates or updates the ledger tables and grants the per-service roles their
 * privileges; reads CEB179_DATABASE_URL (the schema owner's role) and CEB179_DATABASE_ROLE_PREFIX.
 */
async function main(): Promise<void> {
  const config = loadConfig({
    databaseUrl: commonSettings.databaseUrl,
    logLevel: commonSettings.logLevel,
    rolePrefix: {
      doc: 'Prefix of the per-service Postgres roles migrate grants privileges to (<prefix>_ingress, _assembler, _reporter, _monitor)',
      format: 'identifier',
      default: 'ceb179',
      env: 'CEB179_DATABASE_ROLE_PREFIX',
    },
  });
  const logger = createLogger({ service: 'migrate', level: config.logLevel });
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-migrate', max: 1, statementTimeoutMs: 0 });
  try {
    const applied = await migrate(pool, undefined, { rolePrefix: config.rolePrefix });
    logger.info({ applied: applied.map((m) => `${m.version}-${m.name}`) }, applied.length ? 'migrations applied' : 'ledger is up to date');
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
