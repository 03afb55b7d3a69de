import type { ResendRequestMessage, SignatureMessage } from '@ceb179/contracts';
import { isAppError, toAppError } from '@ceb179/errors';
import { forSession, type Logger } from '@ceb179/logger';
import { ack, backoffMs, retryIn, type HandlerOutcome } from '@ceb179/mq';
import { buildPayExInfoStr, buildUploadFormBody } from '@ceb179/protocol';
import { CustomsHttpError, CustomsUnreachableError, type CustomsClient } from '../clients/customs.client';
import type { RequestRepository, UploadClaim } from '../data-access/request.repository';
import { CONFIG_FAULT_HINT, interpretCustomsCode, saysAlreadyStored } from './customs-codes';

/** The ports the use case decides over (Postgres and customs over HTTPS in production; fakes in its unit tests). */
export type UploadLedger = Pick<RequestRepository, 'claimForUpload' | 'recordAttempt' | 'finish' | 'releaseClaim' | 'reopenForResend'>;
export type CustomsUpload = Pick<CustomsClient, 'upload'>;

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
    private readonly requests: UploadLedger,
    private readonly customs: CustomsUpload,
    private readonly options: UploadOptions,
    private readonly logger: Logger,
  ) {}

  /** Takes the upload claim (storing the signature if it is the first) and uploads; also the re-send's path. */
  async run(
    signature: Pick<SignatureMessage, 'sessionID' | 'certNo' | 'signValue' | 'signerId'>,
    retries: number,
  ): Promise<HandlerOutcome> {
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

  /**
   * An operator's re-send: reopens the request in the ledger (refused when customs holds it) and
   * then takes the very path a signature takes, with the signature the ledger stored. While
   * another upload of it is in progress, waits: that one may end in customs holding it.
   */
  async resend(request: ResendRequestMessage, retries: number): Promise<HandlerOutcome> {
    const log = forSession(this.logger, request.sessionID);
    const reopened = await this.requests.reopenForResend(
      request.sessionID,
      `re-send requested by ${request.requestedBy} at ${request.requestedAt}`,
    );
    if (reopened.kind === 'busy') return retryIn(10_000, 'an upload of this request is in progress');
    if (reopened.kind === 'refused') {
      log.warn({ requestedBy: request.requestedBy, why: reopened.why }, 're-send refused');
      return ack;
    }
    log.info({ requestedBy: request.requestedBy }, 're-sending the stored document');
    return this.run(
      { sessionID: request.sessionID, certNo: reopened.certNo, signValue: reopened.signValue, signerId: reopened.signerId },
      retries,
    );
  }

  private async upload(claim: UploadClaim, retries: number, log: Logger): Promise<HandlerOutcome> {
    const body = buildUploadFormBody(buildPayExInfoStr(claim));
    const started = Date.now();
    try {
      const reply = await this.customs.upload(body);
      let verdict = interpretCustomsCode(reply.code);
      // 20006 says "already stored" only if something of ours can be there: an earlier attempt that
      // may have reached customs, or customs' own words. To a first attempt it reports a failure.
      const firstAttempt20006 = verdict === 'duplicate' && !claim.earlierAttemptMayHaveReached && !saysAlreadyStored(reply.message);
      if (firstAttempt20006) verdict = 'rejected';
      await this.requests.recordAttempt(claim.sessionID, {
        latencyMs: reply.latencyMs,
        httpStatus: reply.httpStatus,
        customsCode: reply.code,
        customsMessage: reply.message,
        outcome: verdict,
      });
      const logged = { code: reply.code, customsMessage: reply.message, latencyMs: reply.latencyMs };
      if (verdict === 'accepted' || verdict === 'duplicate') {
        const { applied, late } = await this.requests.finish(claim, 'uploaded', reply.code, reply.message, null);
        if (!applied) return this.claimLost(reply.code, log);
        log.info(
          { ...logged, late },
          verdict === 'accepted' ? 'uploaded to customs' : 'customs already holds this sessionID (20006): done',
        );
      } else if (verdict === 'config_fault') {
        const { applied } = await this.requests.finish(claim, 'config_fault', reply.code, reply.message, CONFIG_FAULT_HINT);
        if (!applied) return this.claimLost(reply.code, log);
        log.error(
          { ...logged, alert: 'config', hint: CONFIG_FAULT_HINT, certNo: claim.certNo },
          'CONFIGURATION ALERT: customs refused the certificate',
        );
      } else {
        const reason = firstAttempt20006
          ? `customs answered 20006 to the first attempt for this sessionID ("${reply.message}"): nothing of ours can be stored there, so it is not taken as done`
          : `customs answered ${reply.code}`;
        const { applied } = await this.requests.finish(claim, 'upload_rejected', reply.code, reply.message, reason);
        if (!applied) return this.claimLost(reply.code, log);
        log.error({ ...logged, alert: 'rejected', firstAttempt20006 }, 'customs rejected the upload');
      }
      return ack;
    } catch (error) {
      const httpStatus = error instanceof CustomsHttpError ? error.httpStatus : undefined;
      const neverReached = error instanceof CustomsUnreachableError && !error.mayHaveReached ? { reachedCustoms: false as const } : {};
      if (isAppError(error) && error.code === 'CONFIG') {
        await this.requests.recordAttempt(claim.sessionID, {
          latencyMs: Date.now() - started,
          httpStatus,
          outcome: 'config_fault',
          error: error.message,
          ...neverReached,
        });
        const { applied } = await this.requests.finish(claim, 'config_fault', null, null, error.message);
        if (!applied) return this.claimLost('config fault', log);
        log.error({ problem: error.message, alert: 'config' }, 'CONFIGURATION ALERT: customs cannot be reached as configured');
        return ack;
      }
      if (!isAppError(error) || error.code !== 'TRANSPORT') throw error;
      return this.transportFault(claim, retries, Date.now() - started, error.message, httpStatus, neverReached, log);
    }
  }

  /** Another reporter retook the claim while this one waited (fencing): its result decides. */
  private claimLost(what: string, log: Logger): HandlerOutcome {
    log.warn({ outcome: what }, 'upload claim was retaken by another reporter meanwhile; this attempt is in upload_attempt only');
    return ack;
  }

  private async transportFault(
    claim: UploadClaim,
    retries: number,
    latencyMs: number,
    problem: string,
    httpStatus: number | undefined,
    neverReached: { reachedCustoms?: false },
    log: Logger,
  ): Promise<HandlerOutcome> {
    await this.requests.recordAttempt(claim.sessionID, {
      latencyMs,
      httpStatus,
      outcome: 'transport_fault',
      error: problem,
      ...neverReached,
    });
    if (retries >= this.options.maxTransportRetries) {
      const { applied } = await this.requests.finish(
        claim,
        'upload_rejected',
        null,
        null,
        `gave up after ${retries + 1} transport faults: ${problem}`,
      );
      if (!applied) return this.claimLost('transport fault', log);
      log.error({ problem, attempts: retries + 1, alert: 'transport' }, 'upload given up after repeated transport faults');
      return ack;
    }
    const pastDeadline = Date.now() > claim.deadlineAt.getTime();
    const delayMs = pastDeadline ? backoffMs(retries, 10_000, 120_000) : backoffMs(retries, 1_000, 15_000);
    await this.requests
      .releaseClaim(claim, `transport fault, retrying: ${problem}`)
      .catch((e: unknown) => log.warn({ err: toAppError(e).message }, 'could not release the upload claim; it expires on its own'));
    log.warn({ problem, delayMs, pastDeadline }, 'customs transport fault; retrying');
    return retryIn(delayMs, problem);
  }
}
