import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@ceb179/testkit';
import { createPool } from '../src';

/** The pool every service uses survives Postgres cutting its connections (a restart, a failover). */
describe('createPool (real Postgres)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  async function terminate(pid: number): Promise<void> {
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
  }

  it('a checked-out client whose connection is cut between queries does not crash the process, and the pool recovers', async () => {
    const pool = createPool(db.url, { applicationName: 'pool-test', max: 2 });
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Without a listener on the client, this is an uncaught 'error' event: ingress died of it
      // when Postgres restarted while its outbox relay held a client.
      await terminate(rows[0]?.pid as number);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release();
      const after = await pool.query<{ ok: number }>('SELECT 1 AS ok');
      expect(after.rows).toEqual([{ ok: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('an idle client whose connection is cut is dropped, and the next query reconnects', async () => {
    const pool = createPool(db.url, { applicationName: 'pool-test', max: 1 });
    try {
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await terminate(rows[0]?.pid as number);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(after.rows[0]?.pid).not.toBe(rows[0]?.pid);
    } finally {
      await pool.end();
    }
  });
});
