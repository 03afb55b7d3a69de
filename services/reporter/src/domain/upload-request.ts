import type { SignatureMessage } from '@ceb179/contracts';
import { isAppError, toAppError } from '@ceb179/errors';
import { forSession, type Logger } from '@ceb179/logger';
import { ack, backoffMs, retryIn, type HandlerOutcome } from '@ceb179/mq';
import { buildPayExInfoStr, buildUploadFormBody } from '@ceb179/protocol';
import { CustomsHttpError, type CustomsClient } from '../clients/customs.client';
import type { RequestRepository, UploadClaim } from '../data-access/request.repository';
import { CONFIG_FAULT_HINT, interpretCustomsCode } from './customs-codes';

export interface UploadOptions {
  maxTransportRetries: number;
}

/**
 * Uploads one signed request to customs and records what happened. The document is rebuilt
 * from the head and lists text stored at assembly, byte for byte what was signed. Transport
 * faults are retried with back-off (faster before the deadline, slower after it); customs
 * codes are final.
 */
export class UploadRequest {
  constructor(
    private readonly requests: RequestRepository,
    private readonly customs: CustomsClient,
    private readonly options: UploadOptions,
    private readonly logger: Logger,
  ) {}

  async run(signature: SignatureMessage, retries: number): Promise<HandlerOutcome> {
    const log = forSession(this.logger, signature.sessionID);
    const claim = await this.requests.claimForUpload(signature.sessionID, signature.certNo, signature.signValue, signature.signerId);
    switch (claim.kind) {
      case 'done':
        log.info({ status: claim.status }, 'already finished; duplicate signature ignored');
        return ack;
      case 'busy':
        return retryIn(10_000, 'another reporter is uploading this request');
      case 'missing':
        if (retries >= 5) {
          log.error('signature for a request the ledger does not hold as assembled; dropping');
          return ack;
        }
        return retryIn(backoffMs(retries), 'request not assembled in the ledger yet');
      case 'claimed':
        return this.upload(claim.claim, retries, log);
    }
  }

  private async upload(claim: UploadClaim, retries: number, log: Logger): Promise<HandlerOutcome> {
    const body = buildUploadFormBody(buildPayExInfoStr(claim));
    const started = Date.now();
    try {
      const reply = await this.customs.upload(body);
      const verdict = interpretCustomsCode(reply.code);
      await this.requests.recordAttempt(claim.sessionID, {
        latencyMs: reply.latencyMs, httpStatus: reply.httpStatus, customsCode: reply.code, customsMessage: reply.message, outcome: verdict,
      });
      const logged = { code: reply.code, customsMessage: reply.message, latencyMs: reply.latencyMs };
      if (verdict === 'accepted' || verdict === 'duplicate') {
        const late = await this.requests.finish(claim.sessionID, 'uploaded', reply.code, reply.message, null);
        log.info({ ...logged, late }, verdict === 'accepted' ? 'uploaded to customs' : 'customs already holds this sessionID (20006): done');
      } else if (verdict === 'config_fault') {
        await this.requests.finish(claim.sessionID, 'config_fault', reply.code, reply.message, CONFIG_FAULT_HINT);
        log.error({ ...logged, alert: 'config', hint: CONFIG_FAULT_HINT, certNo: claim.certNo }, 'CONFIGURATION ALERT: customs refused the certificate');
      } else {
        await this.requests.finish(claim.sessionID, 'upload_rejected', reply.code, reply.message, `customs answered ${reply.code}`);
        log.error({ ...logged, alert: 'rejected' }, 'customs rejected the upload');
      }
      return ack;
    } catch (error) {
      const httpStatus = error instanceof CustomsHttpError ? error.httpStatus : undefined;
      if (isAppError(error) && error.code === 'CONFIG') {
        await this.requests.recordAttempt(claim.sessionID, { latencyMs: Date.now() - started, httpStatus, outcome: 'config_fault', error: error.message });
        await this.requests.finish(claim.sessionID, 'config_fault', null, null, error.message);
        log.error({ problem: error.message, alert: 'config' }, 'CONFIGURATION ALERT: the upload URL does not answer like customs');
        return ack;
      }
      if (!isAppError(error) || error.code !== 'TRANSPORT') throw error;
      return this.transportFault(claim, retries, Date.now() - started, error.message, httpStatus, log);
    }
  }

  private async transportFault(
    claim: UploadClaim,
    retries: number,
    latencyMs: number,
    problem: string,
    httpStatus: number | undefined,
    log: Logger,
  ): Promise<HandlerOutcome> {
    await this.requests.recordAttempt(claim.sessionID, { latencyMs, httpStatus, outcome: 'transport_fault', error: problem });
    if (retries >= this.options.maxTransportRetries) {
      await this.requests.finish(claim.sessionID, 'upload_rejected', null, null, `gave up after ${retries + 1} transport faults: ${problem}`);
      log.error({ problem, attempts: retries + 1, alert: 'transport' }, 'upload given up after repeated transport faults');
      return ack;
    }
    const pastDeadline = Date.now() > claim.deadlineAt.getTime();
    const delayMs = pastDeadline ? backoffMs(retries, 10_000, 120_000) : backoffMs(retries, 1_000, 15_000);
    await this.requests.releaseClaim(claim.sessionID, `transport fault, retrying: ${problem}`).catch((e: unknown) =>
      log.warn({ err: toAppError(e).message }, 'could not release the upload claim; it expires on its own'),
    );
    log.warn({ problem, delayMs, pastDeadline }, 'customs transport fault; retrying');
    return retryIn(delayMs, problem);
  }
}
