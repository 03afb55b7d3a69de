import type { Pool } from '@ceb179/db';
import { DEADLINE_MS } from '@ceb179/contracts';
import { DEADLINE_BUCKETS, type ServiceMetrics } from '@ceb179/metrics';
import { RequestRepository, type AttemptRecord, type StageTimes } from './request.repository';

/**
 * The reporter's ledger access, counting what it records: every customs reply by code and
 * outcome, transport faults (each one is retried until the limit), and for each upload the time
 * from customs' call to every stage and whether it beat the two-minute deadline. Reads the
 * stage times from the ledger row (the final UPDATE returns them), so the figures are the ledger's,
 * not this process's.
 */
export class MeteredRequestRepository extends RequestRepository {
  private readonly replies;
  private readonly transportFaults;
  private readonly stageSeconds;
  private readonly callbackToUpload;
  private readonly uploads;

  constructor(ledger: Pool, staleClaimMs: number, metrics: ServiceMetrics) {
    super(ledger, staleClaimMs);
    this.replies = metrics.counter(
      'ceb179_customs_replies_total',
      'Upload attempts by customs code (none: no customs answer) and outcome',
      ['code', 'outcome'],
    );
    this.transportFaults = metrics.counter(
      'ceb179_transport_faults_total',
      'Upload attempts that met a transport fault (timeout, refused, 5xx); each is retried up to the limit',
    );
    this.stageSeconds = metrics.histogram(
      'ceb179_stage_seconds',
      "Time from customs' call to each stage of an uploaded request",
      DEADLINE_BUCKETS,
      ['stage'],
    );
    this.callbackToUpload = metrics.histogram(
      'ceb179_callback_to_upload_seconds',
      "Time from customs' call to the upload customs accepted; the deadline is 120 s",
      DEADLINE_BUCKETS,
    );
    this.uploads = metrics.counter(
      'ceb179_uploads_total',
      'Uploads customs accepted (10000) or already held (20006), by timing against the two-minute deadline',
      ['timing'],
    );
  }

  override async recordAttempt(...args: Parameters<RequestRepository['recordAttempt']>): Promise<void> {
    await super.recordAttempt(...args);
    const attempt = args.find((a): a is AttemptRecord => typeof a === 'object' && a !== null && 'outcome' in a);
    if (!attempt) return;
    this.replies.inc({ code: attempt.customsCode ?? 'none', outcome: attempt.outcome });
    if (attempt.outcome === 'transport_fault') this.transportFaults.inc();
  }

  override async finish(...args: Parameters<RequestRepository['finish']>): Promise<Awaited<ReturnType<RequestRepository['finish']>>> {
    const { applied, late, times } = await this.finishReturningTimes(...args);
    if (applied && times) {
      try {
        this.observeUpload(times);
      } catch {
        // metrics never fail an upload
      }
    }
    return { applied, late };
  }

  private observeUpload(row: StageTimes): void {
    if (row.status !== 'uploaded' || !row.uploaded_at) return;
    // The call's moment: received_at, unless ingress recorded it late (it then keeps the deadline).
    const called = Math.min(row.received_at.getTime(), row.deadline_at.getTime() - DEADLINE_MS);
    for (const [stage, at] of [
      ['assembled', row.assembled_at],
      ['signed', row.signed_at],
      ['uploaded', row.uploaded_at],
    ] as const) {
      if (at) this.stageSeconds.observe({ stage }, (at.getTime() - called) / 1000);
    }
    this.callbackToUpload.observe((row.uploaded_at.getTime() - called) / 1000);
    this.uploads.inc({ timing: row.uploaded_at.getTime() > row.deadline_at.getTime() ? 'late' : 'inside' });
  }
}
