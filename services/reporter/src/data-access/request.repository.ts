import type { Pool } from '@ceb179/db';

export interface UploadClaim {
  sessionID: string;
  headJson: string;
  listsJson: string;
  serviceTime: string;
  certNo: string;
  signValue: string;
  deadlineAt: Date;
}

export type ClaimResult =
  | { kind: 'claimed'; claim: UploadClaim }
  | { kind: 'done'; status: string }
  | { kind: 'busy' }
  | { kind: 'missing' };

export type UploadOutcome = 'accepted' | 'duplicate' | 'rejected' | 'config_fault' | 'transport_fault';

export interface AttemptRecord {
  latencyMs: number;
  httpStatus?: number | undefined;
  customsCode?: string;
  customsMessage?: string;
  outcome: UploadOutcome;
  error?: string;
}

/**
 * A claim older than this belongs to a reporter that died mid-upload; it may be retaken. Twice
 * the default upload timeout: a live reporter has finished or released its claim by then.
 */
const STALE_CLAIM_SECONDS = 30;

/** The ledger rows the reporter moves from assembled to signed to uploaded, plus upload attempts. */
export class RequestRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Takes the exclusive right to upload one request and stores the signature. Only one reporter
   * holds a fresh claim at a time, so a duplicated signature message never uploads twice; the
   * signature first stored is kept, so retries upload the same bytes.
   */
  async claimForUpload(sessionID: string, certNo: string, signValue: string, signerId: string): Promise<ClaimResult> {
    const { rows } = await this.pool.query<{
      head_json: string; lists_json: string; service_time: string; cert_no: string; sign_value: string; deadline_at: Date;
    }>(
      `UPDATE ceb179.request
          SET status = 'signed', upload_claimed_at = now(), updated_at = now(),
              signed_at = COALESCE(signed_at, now()),
              cert_no = COALESCE(cert_no, $2), sign_value = COALESCE(sign_value, $3), signer_id = COALESCE(signer_id, $4)
        WHERE session_id = $1
          AND (status = 'assembled'
               OR (status = 'signed' AND (upload_claimed_at IS NULL
                                          OR upload_claimed_at < now() - make_interval(secs => ${STALE_CLAIM_SECONDS}))))
        RETURNING head_json, lists_json, service_time, cert_no, sign_value, deadline_at`,
      [sessionID, certNo, signValue, signerId],
    );
    const row = rows[0];
    if (row) {
      return {
        kind: 'claimed',
        claim: {
          sessionID, headJson: row.head_json, listsJson: row.lists_json, serviceTime: row.service_time,
          certNo: row.cert_no, signValue: row.sign_value, deadlineAt: row.deadline_at,
        },
      };
    }
    const current = await this.pool.query<{ status: string }>('SELECT status FROM ceb179.request WHERE session_id = $1', [sessionID]);
    const status = current.rows[0]?.status;
    if (status === undefined || status === 'received') return { kind: 'missing' };
    if (status === 'signed') return { kind: 'busy' };
    return { kind: 'done', status };
  }

  async recordAttempt(sessionID: string, attempt: AttemptRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ceb179.upload_attempt (session_id, latency_ms, http_status, customs_code, customs_message, outcome, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [sessionID, attempt.latencyMs, attempt.httpStatus ?? null, attempt.customsCode ?? null, attempt.customsMessage ?? null, attempt.outcome, attempt.error ?? null],
    );
  }

  /** Final state after customs answered; returns whether the upload was after the deadline. */
  async finish(sessionID: string, status: 'uploaded' | 'upload_rejected' | 'config_fault', code: string | null, message: string | null, reason: string | null): Promise<boolean> {
    const { rows } = await this.pool.query<{ late: boolean }>(
      `UPDATE ceb179.request
          SET status = $2, customs_code = $3, customs_message = $4, reason = $5, upload_claimed_at = NULL,
              uploaded_at = CASE WHEN $2 = 'uploaded' THEN now() ELSE uploaded_at END,
              late = ($2 = 'uploaded' AND now() > deadline_at), updated_at = now()
        WHERE session_id = $1 AND status = 'signed'
        RETURNING late`,
      [sessionID, status, code, message, reason],
    );
    return rows[0]?.late ?? false;
  }

  /** Gives the claim back so the delayed retry can take it again at once. */
  async releaseClaim(sessionID: string, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE ceb179.request SET upload_claimed_at = NULL, reason = $2, updated_at = now() WHERE session_id = $1 AND status = 'signed'`,
      [sessionID, reason],
    );
  }
}
