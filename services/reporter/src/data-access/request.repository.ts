import { randomUUID } from 'node:crypto';
import type { Pool } from '@ceb179/db';

/** A request's status and stage times, as the ledger holds them. */
export interface StageTimes {
  status: string;
  received_at: Date;
  deadline_at: Date;
  assembled_at: Date | null;
  signed_at: Date | null;
  uploaded_at: Date | null;
}

export interface UploadClaim {
  sessionID: string;
  /** Fencing token: only the holder of this claim may finish or release it. */
  token: string;
  headJson: string;
  listsJson: string;
  serviceTime: string;
  certNo: string;
  signValue: string;
  deadlineAt: Date;
  /**
   * An earlier claim's upload may have reached customs: there was an earlier claim that did not
   * record a certain "never got there" (refused connection, DNS, TLS). Decides what a 20006 means.
   */
  earlierAttemptMayHaveReached: boolean;
}

export type ClaimResult =
  { kind: 'claimed'; claim: UploadClaim } | { kind: 'done'; status: string } | { kind: 'busy' } | { kind: 'missing' };

export type UploadOutcome = 'accepted' | 'duplicate' | 'rejected' | 'config_fault' | 'transport_fault';

export interface AttemptRecord {
  latencyMs: number;
  httpStatus?: number | undefined;
  customsCode?: string;
  customsMessage?: string;
  outcome: UploadOutcome;
  error?: string;
  /** false: the request certainly never reached customs; omitted: it may have. */
  reachedCustoms?: false;
}

/** What the ledger says to an operator's re-send: the stored signature to upload again, busy, or why not. */
export type ReopenResult =
  { kind: 'reopened'; certNo: string; signValue: string; signerId: string } | { kind: 'busy' } | { kind: 'refused'; why: string };

/** Customs codes that mean customs holds the document: a re-send must never follow them. */
export const HELD_BY_CUSTOMS_CODES = ['10000', '20006'];

/** The ledger rows the reporter moves from assembled to signed to uploaded, plus upload attempts. */
export class RequestRepository {
  /**
   * @param staleClaimMs a claim older than this belongs to a reporter that died or stalled
   *   mid-upload and may be retaken; it follows the upload timeout (see compose).
   */
  constructor(
    private readonly pool: Pool,
    private readonly staleClaimMs: number,
  ) {}

  /**
   * Takes the exclusive right to upload one request and stores the signature. Only one reporter
   * holds a fresh claim at a time, so a duplicated signature message never uploads twice; the
   * signature first stored is kept, so retries upload the same bytes. Each claim gets a new
   * fencing token: a holder that lost its claim to a retake can no longer finish or release it.
   */
  async claimForUpload(sessionID: string, certNo: string, signValue: string, signerId: string): Promise<ClaimResult> {
    const token = randomUUID();
    const { rows } = await this.pool.query<{
      head_json: string;
      lists_json: string;
      service_time: string;
      cert_no: string;
      sign_value: string;
      deadline_at: Date;
      earlier_claims: number;
      unreached_attempts: number;
    }>(
      `UPDATE ceb179.request
          SET status = 'signed', upload_claimed_at = now(), upload_claim_token = $5, upload_claims = upload_claims + 1,
              updated_at = now(), signed_at = COALESCE(signed_at, now()),
              cert_no = COALESCE(cert_no, $2), sign_value = COALESCE(sign_value, $3), signer_id = COALESCE(signer_id, $4)
        WHERE session_id = $1
          AND (status = 'assembled'
               OR (status = 'signed' AND (upload_claimed_at IS NULL
                                          OR upload_claimed_at < now() - make_interval(secs => $6::double precision / 1000))))
        RETURNING head_json, lists_json, service_time, cert_no, sign_value, deadline_at,
                  upload_claims - 1 AS earlier_claims,
                  (SELECT count(*)::int FROM ceb179.upload_attempt a
                    WHERE a.session_id = $1 AND a.reached_customs = false) AS unreached_attempts`,
      [sessionID, certNo, signValue, signerId, token, this.staleClaimMs],
    );
    const row = rows[0];
    if (row) {
      return {
        kind: 'claimed',
        claim: {
          sessionID,
          token,
          headJson: row.head_json,
          listsJson: row.lists_json,
          serviceTime: row.service_time,
          certNo: row.cert_no,
          signValue: row.sign_value,
          deadlineAt: row.deadline_at,
          earlierAttemptMayHaveReached: row.earlier_claims > row.unreached_attempts,
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
      `INSERT INTO ceb179.upload_attempt (session_id, latency_ms, http_status, customs_code, customs_message, outcome, error, reached_customs)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        sessionID,
        attempt.latencyMs,
        attempt.httpStatus ?? null,
        attempt.customsCode ?? null,
        attempt.customsMessage ?? null,
        attempt.outcome,
        attempt.error ?? null,
        attempt.reachedCustoms ?? null,
      ],
    );
  }

  /**
   * Final state after customs answered, by the claim's holder only. Returns applied=false when the
   * claim was retaken meanwhile (the new holder decides), and whether the upload was late.
   */
  async finish(
    claim: Pick<UploadClaim, 'sessionID' | 'token'>,
    status: 'uploaded' | 'upload_rejected' | 'config_fault',
    code: string | null,
    message: string | null,
    reason: string | null,
  ): Promise<{ applied: boolean; late: boolean }> {
    const { applied, late } = await this.finishReturningTimes(claim, status, code, message, reason);
    return { applied, late };
  }

  /** finish(), with the row's stage times as the same statement left them (for metrics, without reading the row again). */
  protected async finishReturningTimes(
    claim: Pick<UploadClaim, 'sessionID' | 'token'>,
    status: 'uploaded' | 'upload_rejected' | 'config_fault',
    code: string | null,
    message: string | null,
    reason: string | null,
  ): Promise<{ applied: boolean; late: boolean; times?: StageTimes }> {
    const { rows } = await this.pool.query<StageTimes & { late: boolean }>(
      `UPDATE ceb179.request
          SET status = $2, customs_code = $3, customs_message = $4, reason = $5,
              upload_claimed_at = NULL, upload_claim_token = NULL,
              uploaded_at = CASE WHEN $2 = 'uploaded' THEN now() ELSE uploaded_at END,
              late = ($2 = 'uploaded' AND now() > deadline_at), updated_at = now()
        WHERE session_id = $1 AND status = 'signed' AND upload_claim_token = $6
        RETURNING late, status, received_at, deadline_at, assembled_at, signed_at, uploaded_at`,
      [claim.sessionID, status, code, message, reason, claim.token],
    );
    const row = rows[0];
    if (!row) return { applied: false, late: false };
    const { late, ...times } = row;
    return { applied: true, late, times };
  }

  /** Gives the claim back (holder only) so the delayed retry can take it again at once. */
  async releaseClaim(claim: Pick<UploadClaim, 'sessionID' | 'token'>, reason: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ceb179.request SET upload_claimed_at = NULL, upload_claim_token = NULL, reason = $2, updated_at = now()
        WHERE session_id = $1 AND status = 'signed' AND upload_claim_token = $3`,
      [claim.sessionID, reason, claim.token],
    );
    return rowCount === 1;
  }

  /**
   * An operator's re-send: a request that ended rejected or in a configuration fault goes back to
   * `signed` with its stored document and signature, so the normal claim uploads those very bytes
   * again. One that customs holds (uploaded, or any attempt answered 10000 or 20006) is never
   * reopened; one `signed` under a fresh claim is busy (its holder decides).
   */
  async reopenForResend(sessionID: string, reason: string): Promise<ReopenResult> {
    const { rows } = await this.pool.query<{ cert_no: string; sign_value: string; signer_id: string | null }>(
      `UPDATE ceb179.request r
          SET status = 'signed', upload_claimed_at = NULL, upload_claim_token = NULL, reason = $2, updated_at = now()
        WHERE session_id = $1
          AND (status IN ('upload_rejected', 'config_fault')
               OR (status = 'signed' AND (upload_claimed_at IS NULL
                                          OR upload_claimed_at < now() - make_interval(secs => $4::double precision / 1000))))
          AND sign_value IS NOT NULL AND head_json IS NOT NULL AND lists_json IS NOT NULL AND service_time IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ceb179.upload_attempt a
                           WHERE a.session_id = r.session_id AND a.customs_code = ANY($3::text[]))
        RETURNING cert_no, sign_value, signer_id`,
      [sessionID, reason, HELD_BY_CUSTOMS_CODES, this.staleClaimMs],
    );
    const row = rows[0];
    if (row) return { kind: 'reopened', certNo: row.cert_no, signValue: row.sign_value, signerId: row.signer_id ?? 'operator' };
    const current = await this.pool.query<{ status: string; held: boolean }>(
      `SELECT status, EXISTS (SELECT 1 FROM ceb179.upload_attempt a WHERE a.session_id = r.session_id AND a.customs_code = ANY($2::text[])) AS held
         FROM ceb179.request r WHERE session_id = $1`,
      [sessionID, HELD_BY_CUSTOMS_CODES],
    );
    const found = current.rows[0];
    if (!found) return { kind: 'refused', why: 'no such request in the ledger' };
    if (found.status === 'uploaded' || found.held) return { kind: 'refused', why: 'customs already holds this request' };
    if (found.status === 'signed') return { kind: 'busy' };
    return { kind: 'refused', why: `status ${found.status} has no signed document to upload` };
  }
}
