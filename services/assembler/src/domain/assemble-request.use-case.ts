import { randomUUID } from 'node:crypto';
import type { CallbackMessage } from '@ceb179/contracts';
import { isAppError } from '@ceb179/errors';
import { forSession, type Logger } from '@ceb179/logger';
import { ack, backoffMs, delayBucketFor, retryIn, type HandlerOutcome } from '@ceb179/mq';
import { buildPaymentDocument, buildSignString } from '@ceb179/protocol';
import type { SignJobPublisher } from '../clients/sign-job.publisher';
import type { PaymentRepository } from '../data-access/payment.repository';
import type { RequestRepository, RequestRow } from '../data-access/request.repository';

/** The ports the use case decides over (Postgres and RabbitMQ in production; in-memory fakes in its unit tests). */
export type RequestLedger = Pick<RequestRepository, 'ensure' | 'saveAssembly' | 'noteRetry' | 'markDataFault'>;
export type PaymentSource = Pick<PaymentRepository, 'findByOrderNo'>;
export type SignJobs = Pick<SignJobPublisher, 'publish'>;

export interface AssembleOptions {
  timeZone: string;
  lookupRetries: number;
  lookupRetryDelayMs: number;
}

const DONE: ReadonlySet<string> = new Set(['signed', 'uploaded', 'data_fault', 'upload_rejected', 'config_fault']);

/**
 * Turns one accepted callback into a sign job: reads the payment behind the order, builds the
 * head and lists JSON once (that exact text is later spliced into both the sign string and the
 * upload), fixes guid and serviceTime for good, records it all, then publishes the job.
 * Idempotent per sessionID: a redelivered callback re-publishes the stored job, never a new one.
 */
export class AssembleRequest {
  constructor(
    private readonly requests: RequestLedger,
    private readonly payments: PaymentSource,
    private readonly signJobs: SignJobs,
    private readonly options: AssembleOptions,
    private readonly logger: Logger,
  ) {}

  async run(message: CallbackMessage, retries: number): Promise<HandlerOutcome> {
    const log = forSession(this.logger, message.sessionID);
    const row = await this.requests.ensure(message);
    if (DONE.has(row.status)) {
      log.info({ status: row.status }, 'callback already past assembly; nothing to do');
      return ack;
    }
    if (row.status === 'assembled') return this.publishStored(row, log);

    const lookup = await this.payments.findByOrderNo(message.orderNo);
    if (!lookup.found) return this.handleMissing(row, lookup.reason, retries, log);

    let document;
    try {
      document = buildPaymentDocument({
        source: lookup.source,
        guid: row.guid ?? randomUUID().toUpperCase(),
        timeZone: this.options.timeZone,
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'DATA_FAULT') {
        await this.requests.markDataFault(row.session_id, error.reason);
        log.error({ reason: error.reason, orderNo: row.order_no }, 'data fault: the payment breaks protocol rules; not uploaded');
        return ack;
      }
      throw error;
    }
    const guid = (JSON.parse(document.headJson) as { guid: string }).guid;
    const serviceTime = String(Date.now());
    let signString: string;
    try {
      signString = buildSignString({ sessionID: row.session_id, headJson: document.headJson, listsJson: document.listsJson, serviceTime });
    } catch (error) {
      // Only a sessionID the sign string cannot carry (a '"') fails here: no redelivery can fix it.
      if (isAppError(error) && error.code === 'INVALID_INPUT') {
        await this.requests.markDataFault(row.session_id, error.message);
        log.error({ reason: error.message, orderNo: row.order_no }, 'the sessionID cannot go into a sign string; not uploaded');
        return ack;
      }
      throw error;
    }
    const saved = await this.requests.saveAssembly(row.session_id, {
      guid,
      serviceTime,
      ebpCode: document.ebpCode,
      headJson: document.headJson,
      listsJson: document.listsJson,
      signString,
    });
    if (!saved) {
      log.info('another delivery assembled this request first');
      return ack;
    }
    await this.signJobs.publish({ sessionID: row.session_id, ebpCode: document.ebpCode, signString, deadlineAt: row.deadline_at });
    log.info({ orderNo: row.order_no, orders: document.orderNos.length, ebpCode: document.ebpCode }, 'assembled; sign job published');
    return ack;
  }

  private async publishStored(row: RequestRow, log: Logger): Promise<HandlerOutcome> {
    if (!row.sign_string || !row.ebp_code) throw new Error('assembled request without a sign string');
    await this.signJobs.publish({
      sessionID: row.session_id,
      ebpCode: row.ebp_code,
      signString: row.sign_string,
      deadlineAt: row.deadline_at,
    });
    log.info('re-published the stored sign job');
    return ack;
  }

  private async handleMissing(row: RequestRow, reason: string, retries: number, log: Logger): Promise<HandlerOutcome> {
    const delayMs = backoffMs(retries, this.options.lookupRetryDelayMs);
    // The broker holds a retry for its delay bucket, which may be longer than delayMs (500 -> 1 s,
    // 12 s -> 30 s): the next look-up must happen before the deadline at that later time, or not at all.
    const beforeDeadline = Date.now() + delayBucketFor(delayMs) < row.deadline_at.getTime();
    if (retries < this.options.lookupRetries && beforeDeadline) {
      const note = `${reason}; look-up ${retries + 1} of ${this.options.lookupRetries + 1}, retrying`;
      await this.requests.noteRetry(row.session_id, note);
      log.warn({ reason, delayMs }, 'payment not found yet; retrying (the source may lag)');
      return retryIn(delayMs, reason);
    }
    await this.requests.markDataFault(row.session_id, reason);
    log.error({ reason, orderNo: row.order_no }, 'data fault: payment not found; not uploaded, operator attention needed');
    return ack;
  }
}
