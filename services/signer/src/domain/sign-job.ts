import type { SignJobMessage } from '@ceb179/contracts';
import { AppError, isAppError } from '@ceb179/errors';
import { forSession, type Logger } from '@ceb179/logger';
import { ack, backoffMs, deadLetter, retryIn, type HandlerOutcome } from '@ceb179/mq';
import { parseSignString } from '@ceb179/protocol';
import type { Card } from './card';
import type { ReaderBreaker } from './reader-breaker';
import type { SignerStatus } from './signer-status';

export interface SignaturePublisher {
  publish(job: SignJobMessage, signValue: string, certNo: string): Promise<void>;
}

export interface SignJobOptions {
  ebpCodes: string[];
  /** Stops consumption at once; called, never awaited, from inside a handler. */
  pauseConsumption: () => void;
}

/** A signature that fails local verification this many times is dead-lettered, never uploaded. */
const MAX_BAD_SIGNATURES = 3;

/**
 * Signs one job: only a well-formed 179 sign string for an ebpCode this card serves reaches
 * the card; every signature is verified locally against the card's certificate before it is
 * published. A possible PIN failure stops consumption for good (until restart); reader faults
 * send the job back to the queue and feed the circuit breaker.
 */
export class SignJob {
  constructor(
    private readonly card: Card,
    private readonly status: SignerStatus,
    private readonly breaker: ReaderBreaker,
    private readonly signatures: SignaturePublisher,
    private readonly options: SignJobOptions,
    private readonly logger: Logger,
  ) {}

  async run(job: SignJobMessage, retries: number): Promise<HandlerOutcome> {
    const log = forSession(this.logger, job.sessionID);
    if (this.status.pinLocked) throw new AppError('CARD_PIN', 'signer is stopped for a PIN problem; job returned to the queue');
    if (this.breaker.isOpen) return retryIn(5_000, 'reader circuit breaker open');

    const problem = this.checkJob(job);
    if (problem) {
      log.error({ problem }, 'sign job refused before reaching the card; dead-lettered');
      return deadLetter(problem);
    }

    let signature;
    try {
      signature = await this.card.sign(job.signString);
    } catch (error) {
      return this.onCardError(error, retries, log);
    }
    this.breaker.success();
    if (!this.card.verify(job.signString, signature)) {
      this.status.badSignature();
      log.error({ certNo: signature.certNo, attempt: retries + 1, alert: 'bad-signature' }, 'signature failed local verification; not published');
      return retries + 1 >= MAX_BAD_SIGNATURES ? deadLetter('signature failed local verification repeatedly') : retryIn(1_000, 'bad signature');
    }
    await this.signatures.publish(job, signature.signValue, signature.certNo);
    this.status.signed();
    this.status.set('ready');
    log.info({ certNo: signature.certNo, algorithm: this.card.certificate.algorithm }, 'signed and verified');
    return ack;
  }

  private checkJob(job: SignJobMessage): string | undefined {
    let headEbpCode: unknown;
    try {
      const parts = parseSignString(job.signString);
      if (parts.sessionID !== job.sessionID) return 'the sign string is for another sessionID';
      headEbpCode = (JSON.parse(parts.headJson) as { ebpCode?: unknown }).ebpCode;
    } catch (error) {
      return `not a 179 sign string: ${isAppError(error) ? error.message : 'unparsable'}`;
    }
    if (headEbpCode !== job.ebpCode) return 'the job ebpCode differs from the document ebpCode';
    if (this.options.ebpCodes.length > 0 && !this.options.ebpCodes.includes(job.ebpCode)) {
      return `this card does not sign for ebpCode ${job.ebpCode}`;
    }
    return undefined;
  }

  private onCardError(error: unknown, retries: number, log: Logger): HandlerOutcome {
    if (isAppError(error) && error.code === 'CARD_PIN') {
      this.status.set('paused-for-pin', error.message);
      log.fatal({ problem: error.message, alert: 'pin' }, 'POSSIBLE PIN FAILURE: consumption stopped; no further PIN attempt until a person restarts the signer with a corrected PIN');
      this.options.pauseConsumption();
      throw error; // the job goes back to the queue untouched
    }
    const message = isAppError(error) ? error.message : String(error);
    this.status.readerFault();
    this.breaker.fault(message);
    const delayMs = backoffMs(retries, 1_000, 15_000);
    log.warn({ problem: message, delayMs }, 'card or control fault; job returns to the queue');
    return retryIn(delayMs, message);
  }
}
