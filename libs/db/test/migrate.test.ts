import { createTestDatabase, type TestDatabase } from '@ceb179/testkit';
import { createPool, migrate } from '../src';

/** Migrations on a real Postgres: the concurrent index build and the migrate pool's missing time limit. */
describe('migrate (real Postgres)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('builds the in-flight index CONCURRENTLY outside a transaction, valid, and is safe to run twice', async () => {
    const pool = createPool(db.url, { applicationName: 'migrate-test', max: 1, statementTimeoutMs: 0 });
    try {
      const first = await migrate(pool);
      expect(first.map((m) => m.name)).toContain('in-flight-deadline-index');
      expect(await migrate(pool)).toEqual([]);
      const { rows } = await pool.query<{ valid: boolean; def: string }>(
        `SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = 'request_in_flight_deadline_idx'`,
      );
      expect(rows).toEqual([
        { valid: true, def: expect.stringContaining("WHERE (status = ANY (ARRAY['received'::text, 'assembled'::text, 'signed'::text]))") },
      ]);
      // The migrate pool has no statement time limit; the services' pool keeps 15 s.
      expect((await pool.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]?.statement_timeout).toBe('0');
    } finally {
      await pool.end();
    }
    const services = createPool(db.url, { applicationName: 'service-test', max: 1 });
    try {
      expect((await services.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]?.statement_timeout).toBe('15s');
    } finally {
      await services.end();
    }
  });
});
