import type { Pool } from 'pg';
import { migrations as allMigrations, type Migration } from './migrations';
import { grantServiceRoles } from './roles';

export interface MigrateOptions {
  /** Prefix of the per-service roles granted their privileges (CEB179_DATABASE_ROLE_PREFIX); default ceb179. */
  rolePrefix?: string;
}

/** Any fixed number: the advisory lock that serialises concurrent migrate runs. */
const MIGRATION_LOCK_KEY = 179_179;

/**
 * Applies pending migrations in one transaction each, under an advisory lock so two services
 * (or two pods) starting together do not race, then (re)grants the per-service roles their
 * privileges (roles.ts). Safe to run any number of times.
 */
export async function migrate(pool: Pool, migrations: Migration[] = allMigrations, options: MigrateOptions = {}): Promise<Migration[]> {
  const client = await pool.connect();
  const applied: Migration[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query('CREATE SCHEMA IF NOT EXISTS ceb179');
    await client.query(`CREATE TABLE IF NOT EXISTS ceb179.schema_migration (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM ceb179.schema_migration');
    const done = new Set(rows.map((r) => r.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      if (migration.transactional === false) {
        for (const statement of [migration.sql].flat()) await client.query(statement);
        await client.query('INSERT INTO ceb179.schema_migration (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        applied.push(migration);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query([migration.sql].flat().join(';\n'));
        await client.query('INSERT INTO ceb179.schema_migration (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(migration);
    }
    await grantServiceRoles(client, options.rolePrefix ?? 'ceb179');
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}
