import type { Pool } from '@ceb179/db';

/** Statuses a request is still moving through; the others are final. */
export const IN_FLIGHT_STATUSES = ['received', 'assembled', 'signed'] as const;
/** Final statuses that need a person. */
export const FAILED_STATUSES = ['data_fault', 'config_fault', 'upload_rejected'] as const;
export const ALL_STATUSES = [...IN_FLIGHT_STATUSES, 'uploaded', ...FAILED_STATUSES] as const;

export interface UploadAttemptView {
  attemptedAt: string;
  latencyMs: number;
  httpStatus: number | null;
  customsCode: string | null;
  customsMessage: string | null;
  outcome: string;
  error: string | null;
}

export interface StageView {
  stage: 'received' | 'assembled' | 'signed' | 'uploaded';
  at: string;
  /** Time from customs' call to this stage. */
  sinceReceivedMs: number;
}

export interface DeadlineView {
  deadlineAt: string;
  /**
   * Deadline minus the upload time (or minus now while not uploaded): positive = that much inside
   * the two minutes, negative = that much past them.
   */
  marginMs: number;
  /** inside / late: uploaded before / after the deadline; open: not uploaded yet, deadline ahead; missed: not uploaded and past it. */
  verdict: 'inside' | 'late' | 'open' | 'missed';
  /** Uploaded at or, for a final fault, finished at; null while in flight. */
  settledAt: string | null;
}

/** Everything the ledger knows about one customs call, in the order it happened. */
export interface RequestTimeline {
  sessionID: string;
  orderNo: string;
  status: string;
  reason: string | null;
  ebpCode: string | null;
  guid: string | null;
  customsServiceTime: string | null;
  serviceTime: string | null;
  certNo: string | null;
  signerId: string | null;
  customsCode: string | null;
  customsMessage: string | null;
  late: boolean;
  receivedAt: string;
  updatedAt: string;
  stages: StageView[];
  deadline: DeadlineView;
  attempts: UploadAttemptView[];
}

/** The stored bytes of one request: what was signed and uploaded (for verify and resend). */
export interface StoredDocument {
  sessionID: string;
  status: string;
  headJson: string | null;
  listsJson: string | null;
  serviceTime: string | null;
  signString: string | null;
  certNo: string | null;
  signValue: string | null;
}

interface RequestRow {
  session_id: string;
  order_no: string;
  status: string;
  reason: string | null;
  ebp_code: string | null;
  guid: string | null;
  customs_service_time: string | null;
  service_time: string | null;
  cert_no: string | null;
  signer_id: string | null;
  customs_code: string | null;
  customs_message: string | null;
  late: boolean;
  received_at: Date;
  deadline_at: Date;
  assembled_at: Date | null;
  signed_at: Date | null;
  uploaded_at: Date | null;
  updated_at: Date;
}

interface AttemptRow {
  session_id: string;
  attempted_at: Date;
  latency_ms: number;
  http_status: number | null;
  customs_code: string | null;
  customs_message: string | null;
  outcome: string;
  error: string | null;
}

const REQUEST_COLUMNS = `session_id, order_no, status, reason, ebp_code, guid, customs_service_time, service_time, cert_no, signer_id,
  customs_code, customs_message, late, received_at, deadline_at, assembled_at, signed_at, uploaded_at, updated_at`;

export function deadlineOf(row: Pick<RequestRow, 'status' | 'deadline_at' | 'uploaded_at' | 'updated_at'>, now: Date): DeadlineView {
  const deadline = row.deadline_at.getTime();
  const inFlight = (IN_FLIGHT_STATUSES as readonly string[]).includes(row.status);
  if (row.uploaded_at) {
    const margin = deadline - row.uploaded_at.getTime();
    return {
      deadlineAt: row.deadline_at.toISOString(),
      marginMs: margin,
      verdict: margin >= 0 ? 'inside' : 'late',
      settledAt: row.uploaded_at.toISOString(),
    };
  }
  if (inFlight) {
    const margin = deadline - now.getTime();
    return { deadlineAt: row.deadline_at.toISOString(), marginMs: margin, verdict: margin >= 0 ? 'open' : 'missed', settledAt: null };
  }
  // A final fault: customs never got (an accepted) upload.
  return {
    deadlineAt: row.deadline_at.toISOString(),
    marginMs: deadline - row.updated_at.getTime(),
    verdict: 'missed',
    settledAt: row.updated_at.toISOString(),
  };
}

function toTimeline(row: RequestRow, attempts: AttemptRow[], now: Date): RequestTimeline {
  const received = row.received_at.getTime();
  const stages: StageView[] = [{ stage: 'received', at: row.received_at.toISOString(), sinceReceivedMs: 0 }];
  for (const [stage, at] of [
    ['assembled', row.assembled_at],
    ['signed', row.signed_at],
    ['uploaded', row.uploaded_at],
  ] as const) {
    if (at) stages.push({ stage, at: at.toISOString(), sinceReceivedMs: at.getTime() - received });
  }
  return {
    sessionID: row.session_id,
    orderNo: row.order_no,
    status: row.status,
    reason: row.reason,
    ebpCode: row.ebp_code,
    guid: row.guid,
    customsServiceTime: row.customs_service_time,
    serviceTime: row.service_time,
    certNo: row.cert_no,
    signerId: row.signer_id,
    customsCode: row.customs_code,
    customsMessage: row.customs_message,
    late: row.late,
    receivedAt: row.received_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    stages,
    deadline: deadlineOf(row, now),
    attempts: attempts.map((a) => ({
      attemptedAt: a.attempted_at.toISOString(),
      latencyMs: a.latency_ms,
      httpStatus: a.http_status,
      customsCode: a.customs_code,
      customsMessage: a.customs_message,
      outcome: a.outcome,
      error: a.error,
    })),
  };
}

/**
 * The timelines of a sessionID, or of every customs call for an order number (customs may call
 * more than once for one order), newest first. Empty when the ledger has neither.
 */
export async function findTimelines(pool: Pool, sessionOrOrder: string, now = new Date()): Promise<RequestTimeline[]> {
  const { rows } = await pool.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM ceb179.request
      WHERE session_id = $1 OR order_no = $1
      ORDER BY (session_id = $1) DESC, received_at DESC LIMIT 50`,
    [sessionOrOrder],
  );
  // A sessionID match is exact: do not mix in other requests whose order number happens to equal it.
  const exact = rows.filter((r) => r.session_id === sessionOrOrder);
  const chosen = exact.length > 0 ? exact : rows;
  if (chosen.length === 0) return [];
  const attempts = await pool.query<AttemptRow>(
    `SELECT session_id, attempted_at, latency_ms, http_status, customs_code, customs_message, outcome, error
       FROM ceb179.upload_attempt WHERE session_id = ANY($1::text[]) ORDER BY attempted_at, id`,
    [chosen.map((r) => r.session_id)],
  );
  return chosen.map((row) =>
    toTimeline(
      row,
      attempts.rows.filter((a) => a.session_id === row.session_id),
      now,
    ),
  );
}

export async function findTimeline(pool: Pool, sessionID: string, now = new Date()): Promise<RequestTimeline | undefined> {
  return (await findTimelines(pool, sessionID, now)).find((t) => t.sessionID === sessionID);
}

export type ListKind = 'failed' | 'late' | 'in-flight' | 'all';

export interface ListOptions {
  kind: ListKind;
  limit: number;
  /** Only requests received within this many hours (default: all). */
  sinceHours?: number;
}

/**
 * Requests of one kind, newest first: failed (ended in a fault), late (uploaded after the deadline,
 * or still not uploaded past it), in-flight (not finished), all.
 */
export async function listRequests(pool: Pool, options: ListOptions, now = new Date()): Promise<RequestTimeline[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (options.kind === 'failed') where.push(`status = ANY('{${FAILED_STATUSES.join(',')}}'::text[])`);
  if (options.kind === 'in-flight') where.push(`status = ANY('{${IN_FLIGHT_STATUSES.join(',')}}'::text[])`);
  if (options.kind === 'late') {
    params.push(now);
    where.push(`(late OR (status = ANY('{${IN_FLIGHT_STATUSES.join(',')}}'::text[]) AND deadline_at < $${params.length}))`);
  }
  if (options.sinceHours !== undefined) {
    params.push(options.sinceHours);
    where.push(`received_at > now() - make_interval(hours => $${params.length})`);
  }
  params.push(Math.max(1, Math.min(options.limit, 1000)));
  const { rows } = await pool.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM ceb179.request ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY received_at DESC LIMIT $${params.length}`,
    params,
  );
  if (rows.length === 0) return [];
  const attempts = await pool.query<AttemptRow>(
    `SELECT session_id, attempted_at, latency_ms, http_status, customs_code, customs_message, outcome, error
       FROM ceb179.upload_attempt WHERE session_id = ANY($1::text[]) ORDER BY attempted_at, id`,
    [rows.map((r) => r.session_id)],
  );
  return rows.map((row) =>
    toTimeline(
      row,
      attempts.rows.filter((a) => a.session_id === row.session_id),
      now,
    ),
  );
}

export interface StageCount {
  status: string;
  count: number;
  late: number;
}

/** Requests by status received in the last `hours` hours, every status listed (0 when none). */
export async function countByStatus(pool: Pool, hours: number): Promise<StageCount[]> {
  const { rows } = await pool.query<{ status: string; n: number; late: number }>(
    `SELECT status, count(*)::int AS n, count(*) FILTER (WHERE late)::int AS late
       FROM ceb179.request WHERE received_at > now() - make_interval(hours => $1) GROUP BY status`,
    [hours],
  );
  return ALL_STATUSES.map((status) => {
    const row = rows.find((r) => r.status === status);
    return { status, count: row?.n ?? 0, late: row?.late ?? 0 };
  });
}

export async function loadStoredDocument(pool: Pool, sessionID: string): Promise<StoredDocument | undefined> {
  const { rows } = await pool.query<{
    session_id: string;
    status: string;
    head_json: string | null;
    lists_json: string | null;
    service_time: string | null;
    sign_string: string | null;
    cert_no: string | null;
    sign_value: string | null;
  }>(
    'SELECT session_id, status, head_json, lists_json, service_time, sign_string, cert_no, sign_value FROM ceb179.request WHERE session_id = $1',
    [sessionID],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    sessionID: row.session_id,
    status: row.status,
    headJson: row.head_json,
    listsJson: row.lists_json,
    serviceTime: row.service_time,
    signString: row.sign_string,
    certNo: row.cert_no,
    signValue: row.sign_value,
  };
}
