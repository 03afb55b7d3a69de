import type { Pool } from '@ceb179/db';
import type { OpenReq } from '../domain/open-req';
import { GroupedWrites } from './grouped-writes.batcher';

export interface RecordedCallback {
  sessionID: string;
  orderNo: string;
  customsServiceTime: string | null;
  receivedAt: Date;
  deadlineAt: Date;
}

/** The ledger rows ingress owns: a callback's arrival and whether it reached RabbitMQ yet. */
export class CallbackRepository {
  private readonly publishedMarks: GroupedWrites;

  /**
   * `markLingerMs`: how long a "published" mark may wait to be written with others (0 = each
   * alone). Far below the outbox relay's minimum age, so the relay never takes a callback whose
   * mark is merely waiting; if the grouped write fails, the relay re-publishes, as for any
   * failed mark (the assembler is idempotent by sessionID).
   */
  constructor(
    private readonly pool: Pool,
    markLingerMs = 0,
  ) {
    this.publishedMarks = new GroupedWrites(async (sessionIDs) => {
      await this.pool.query(
        'UPDATE ceb179.request SET published_at = now(), updated_at = now() WHERE session_id = ANY($1::text[]) AND published_at IS NULL',
        [sessionIDs],
      );
    }, markLingerMs);
  }

  /** Inserts the request; returns undefined when the sessionID is already recorded (a duplicate call). */
  async record(openReq: OpenReq, receivedAt: Date, deadlineAt: Date): Promise<RecordedCallback | undefined> {
    const { rows } = await this.pool.query<{ session_id: string }>(
      `INSERT INTO ceb179.request (session_id, order_no, customs_service_time, received_at, deadline_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (session_id) DO NOTHING
       RETURNING session_id`,
      [openReq.sessionID, openReq.orderNo, openReq.serviceTime, receivedAt, deadlineAt],
    );
    if (rows.length === 0) return undefined;
    return { sessionID: openReq.sessionID, orderNo: openReq.orderNo, customsServiceTime: openReq.serviceTime, receivedAt, deadlineAt };
  }

  /** Resolves once the mark is written (with the others of its group). */
  markPublished(sessionID: string): Promise<void> {
    return this.publishedMarks.add(sessionID);
  }

  /**
   * Runs `publish` for callbacks recorded at least `minAgeMs` ago but never published, marking
   * each one that succeeds. Row locks (SKIP LOCKED) let several ingress replicas relay at once.
   * Order: those that can still make their deadline first, earliest deadline first; those already
   * past it after them (they are late whatever happens, and must not hold back ones that are not).
   */
  async relayUnpublished(minAgeMs: number, limit: number, publish: (c: RecordedCallback) => Promise<void>): Promise<number> {
    const client = await this.pool.connect();
    let relayed = 0;
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{
        session_id: string;
        order_no: string;
        customs_service_time: string | null;
        received_at: Date;
        deadline_at: Date;
      }>(
        `SELECT session_id, order_no, customs_service_time, received_at, deadline_at FROM ceb179.request
          WHERE published_at IS NULL AND received_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY deadline_at < now(), deadline_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [minAgeMs, limit],
      );
      for (const row of rows) {
        await publish({
          sessionID: row.session_id,
          orderNo: row.order_no,
          customsServiceTime: row.customs_service_time,
          receivedAt: row.received_at,
          deadlineAt: row.deadline_at,
        });
        await client.query('UPDATE ceb179.request SET published_at = now(), updated_at = now() WHERE session_id = $1', [row.session_id]);
        relayed += 1;
      }
      await client.query('COMMIT');
    } catch (error) {
      // Keep what was marked before the failure; a connection that failed is not given back to the pool.
      await client.query('COMMIT').catch((commitError: unknown) => (broken = commitError));
      if (relayed === 0) throw error;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
    return relayed;
  }
}
