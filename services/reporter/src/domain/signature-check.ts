import type { SignatureMessage } from '@ceb179/contracts';
import { forSession, type Logger } from '@ceb179/logger';
import { backoffMs, deadLetter, retryIn, type HandlerOutcome } from '@ceb179/mq';
import { verifySignature } from '@ceb179/protocol';
import type { SignStringRepository } from '../data-access/sign-string.repository';
import type { KnownCertificates } from './known-certificates';

/** Statuses in which a signature would be stored (or its stored one uploaded): it must verify first. */
const AWAITING_SIGNATURE: ReadonlySet<string> = new Set(['assembled', 'signed']);

/**
 * How long a signature waits for its card's certificate (the signer sends it in every heartbeat,
 * every ~10 s): a reporter that just started has not heard every signer yet, and with several
 * reporters each hears only a share of the heartbeats. 60 waits of at most 10 s: about 10 minutes,
 * ample for a real card; a forged certNo only costs that many redeliveries.
 */
const MAX_CERTIFICATE_WAITS = 60;

/**
 * Verifies a signature message where it lands, before anything is stored: over the sign string
 * stored at assembly, against the certificate known for the request's ebpCode and the claimed
 * certNo. A forged or corrupted signature message is dead-lettered and changes nothing, so the
 * real signature, arriving before or after it, still wins. Returns undefined when the message
 * may go on to the upload.
 */
export class SignatureCheck {
  constructor(
    private readonly documents: SignStringRepository,
    private readonly certificates: KnownCertificates,
    private readonly logger: Logger,
  ) {}

  async check(signature: SignatureMessage, retries: number): Promise<HandlerOutcome | undefined> {
    const document = await this.documents.find(signature.sessionID);
    // Not assembled yet, or already finished: the upload step knows what to do and stores nothing.
    if (!document || !AWAITING_SIGNATURE.has(document.status) || document.signString === null) return undefined;
    const log = forSession(this.logger, signature.sessionID);
    const refuse = (problem: string): HandlerOutcome => {
      log.error(
        { problem, certNo: signature.certNo, ebpCode: signature.ebpCode, signerId: signature.signerId, alert: 'forged-signature' },
        'signature message refused; nothing stored',
      );
      return deadLetter(`signature refused: ${problem}`);
    };
    if (signature.ebpCode !== document.ebpCode)
      return refuse(`the message says ebpCode ${signature.ebpCode}, the request is for ${document.ebpCode ?? 'none'}`);
    const certificate = this.certificates.find(signature.ebpCode, signature.certNo);
    if (!certificate) {
      if (retries >= MAX_CERTIFICATE_WAITS)
        return refuse(`no card certificate ${signature.certNo} is known for ebpCode ${signature.ebpCode}`);
      return retryIn(
        backoffMs(retries, 1_000, 10_000),
        `certificate ${signature.certNo} for ebpCode ${signature.ebpCode} not known yet (awaiting a signer heartbeat)`,
      );
    }
    let valid: boolean;
    try {
      valid = verifySignature(certificate, document.signString, signature.signValue);
    } catch (error) {
      return refuse(`signature not verifiable: ${(error as Error).message}`);
    }
    if (!valid) return refuse(`the signature does not verify over the stored sign string with certificate ${certificate.certNo}`);
    return undefined;
  }
}
