import type { CallbackMessage } from '@ceb179/contracts';
import type { Pool } from '@ceb179/db';

export type RequestStatus = 'received' | 'assembled' | 'signed' | 'uploaded' | 'data_fault' | 'upload_rejected' | 'config_fault';

export interface RequestRow {
  session_id: string;
  order_no: string;
  status: RequestStatus;
  guid: string | null;
  ebp_code: string | null;
  sign_string: string | null;
  deadline_at: Date;
}

export interface Assembly {
  guid: string;
  serviceTime: string;
  ebpCode: string;
  headJson: string;
  listsJson: string;
  signString: string;
}

const COLUMNS = 'session_id, order_no, status, guid, ebp_code, sign_string, deadline_at';

/** The ledger rows the assembler reads and moves from received to assembled (or data_fault). */
export class RequestRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Returns the request's row, creating it from the message when ingress could only record the
   * call in RabbitMQ (Postgres was down at the time).
   */
  async ensure(message: CallbackMessage): Promise<RequestRow> {
    const { rows } = await this.pool.query<RequestRow>(
      `WITH inserted AS (
         INSERT INTO ceb179.request (session_id, order_no, customs_service_time, received_at, deadline_at, published_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (session_id) DO NOTHING
         RETURNING ${COLUMNS})
       SELECT ${COLUMNS} FROM inserted
       UNION ALL
       SELECT ${COLUMNS} FROM ceb179.request WHERE session_id = $1`,
      [message.sessionID, message.orderNo, message.customsServiceTime ?? null, message.receivedAt, message.deadline],
    );
    return rows[0] as RequestRow;
  }

  /** Stores the assembled document; false when another delivery got there first. */
  async saveAssembly(sessionID: string, assembly: Assembly): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ceb179.request
          SET status = 'assembled', assembled_at = now(), updated_at = now(), reason = NULL,
              guid = $2, service_time = $3, ebp_code = $4, head_json = $5, lists_json = $6, sign_string = $7
        WHERE session_id = $1 AND status = 'received'`,
      [sessionID, assembly.guid, assembly.serviceTime, assembly.ebpCode, assembly.headJson, assembly.listsJson, assembly.signString],
    );
    return rowCount === 1;
  }

  async noteRetry(sessionID: string, reason: string): Promise<void> {
    await this.pool.query(`UPDATE ceb179.request SET reason = $2, updated_at = now() WHERE session_id = $1 AND status = 'received'`, [
      sessionID,
      reason,
    ]);
  }

  async markDataFault(sessionID: string, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE ceb179.request SET status = 'data_fault', reason = $2, updated_at = now()
        WHERE session_id = $1 AND status = 'received'`,
      [sessionID, reason],
    );
  }
}
