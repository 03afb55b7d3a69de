import type { SignJobMessage } from '@ceb179/contracts';
import { isAppError } from '@ceb179/errors';
import { forSession, type Logger } from '@ceb179/logger';
import { ack, backoffMs, deadLetter, retryIn, type HandlerOutcome } from '@ceb179/mq';
import { parseSignString } from '@ceb179/protocol';
import type { Card } from './card';
import { proveSigning } from './self-test';
import type { ReaderBreaker } from './reader-breaker';
import type { SignerStatus } from './signer-status';

/** The ports the use case decides over (the card through the E-Port control in production; fakes in its unit tests). */
export type SigningCard = Pick<Card, 'sign' | 'verify' | 'certificate'>;
export type ReaderCircuit = Pick<ReaderBreaker, 'isOpen' | 'success' | 'fault'>;

export interface SignaturePublisher {
  publish(job: SignJobMessage, signValue: string, certNo: string): Promise<void>;
}

export interface SignDocumentOptions {
  ebpCodes: string[];
  /** Stops consumption at once; called, never awaited, from inside a handler. */
  pauseConsumption: () => void;
  /** The card's signatures stopped verifying (the probe too): stop consuming, leave jobs queued. */
  onSigningFault: (problem: string) => void;
}

/** One document whose signature fails while the probe's verifies, this many times: dead-lettered, never uploaded. */
const MAX_BAD_SIGNATURES = 3;
/** Jobs that arrive while the signer cannot sign go back to their queue (consumption is paused by then). */
const PAUSED_RETRY_MS = 5_000;

/**
 * Signs one job: only a well-formed 179 sign string for an ebpCode this card serves reaches
 * the card; every signature is verified locally against the card's certificate before it is
 * published. A possible PIN failure stops consumption for good (until restart); reader faults
 * send the job back to the queue and feed the circuit breaker; a signature that does not verify
 * is told apart as this document's problem or the card PC's (a probe signature decides), and the
 * card PC's problem stops consumption without losing or dead-lettering a job.
 */
export class SignDocument {
  private readonly badSignatures = new Map<string, number>();
  private probing: Promise<string | undefined> | undefined;

  constructor(
    private readonly card: SigningCard,
    private readonly status: SignerStatus,
    private readonly breaker: ReaderCircuit,
    private readonly signatures: SignaturePublisher,
    private readonly options: SignDocumentOptions,
    private readonly logger: Logger,
  ) {}

  async run(job: SignJobMessage, retries: number): Promise<HandlerOutcome> {
    const log = forSession(this.logger, job.sessionID);
    if (this.status.pinLocked || this.status.state === 'signing-fault') {
      this.options.pauseConsumption();
      return retryIn(PAUSED_RETRY_MS, `signer is ${this.status.state}; job returned to the queue`);
    }
    if (this.breaker.isOpen) return retryIn(PAUSED_RETRY_MS, 'reader circuit breaker open');

    const problem = this.checkJob(job);
    if (problem) {
      log.error({ problem }, 'sign job refused before reaching the card; dead-lettered');
      return deadLetter(problem);
    }

    let signature;
    try {
      signature = await this.card.sign(job.signString);
    } catch (error) {
      if (isAppError(error) && (error.code === 'SIGNATURE_INVALID' || error.code === 'PROTOCOL')) {
        return this.onBadSignature(job, error.message, log);
      }
      return this.onCardError(error, retries, log);
    }
    this.breaker.success();
    if (!this.card.verify(job.signString, signature)) {
      return this.onBadSignature(job, `signature failed local verification (certNo ${signature.certNo})`, log);
    }
    this.badSignatures.delete(job.sessionID);
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

  /** A signature that cannot be uploaded: this document's problem, or the card PC's? A probe decides. */
  private async onBadSignature(job: SignJobMessage, problem: string, log: Logger): Promise<HandlerOutcome> {
    this.status.badSignature();
    log.error({ problem, alert: 'bad-signature' }, 'signature not usable; not published');
    let systemic: string | undefined;
    try {
      systemic = await this.probeSigning();
    } catch (error) {
      return this.onCardError(error, 0, log);
    }
    if (systemic) {
      this.options.onSigningFault(systemic);
      return retryIn(PAUSED_RETRY_MS, 'the card PC cannot produce verifiable signatures; job returned to the queue');
    }
    const count = (this.badSignatures.get(job.sessionID) ?? 0) + 1;
    this.badSignatures.set(job.sessionID, count);
    if (count >= MAX_BAD_SIGNATURES) {
      this.badSignatures.delete(job.sessionID);
      return deadLetter(
        `the signature over this document failed local verification ${count} times while the probe signature verifies: the control mangles this document (${problem})`,
      );
    }
    return retryIn(1_000, 'bad signature; signing again');
  }

  /** One probe at a time however many jobs fail together; resolves with the systemic problem, if any. */
  private probeSigning(): Promise<string | undefined> {
    this.probing ??= proveSigning(this.card)
      .then(
        () => undefined,
        (error: unknown) => {
          if (isAppError(error) && (error.code === 'SIGNATURE_INVALID' || error.code === 'PROTOCOL')) return error.message;
          throw error;
        },
      )
      .finally(() => (this.probing = undefined));
    return this.probing;
  }

  private onCardError(error: unknown, retries: number, log: Logger): HandlerOutcome {
    if (isAppError(error) && error.code === 'CARD_PIN') {
      this.status.set('paused-for-pin', error.message);
      log.fatal(
        { problem: error.message, alert: 'pin' },
        'POSSIBLE PIN FAILURE: consumption stopped; no further PIN attempt until a person restarts the signer with a corrected PIN',
      );
      this.options.pauseConsumption();
      return retryIn(PAUSED_RETRY_MS, 'signer stopped for a PIN problem; job returned to the queue');
    }
    const message = isAppError(error) ? error.message : String(error);
    this.status.readerFault();
    this.breaker.fault(message);
    const delayMs = backoffMs(retries, 1_000, 15_000);
    log.warn({ problem: message, delayMs }, 'card or control fault; job returns to the queue');
    return retryIn(delayMs, message);
  }
}
