import { AppError } from '@ceb179/errors';
import {
  canonicalBase64,
  ControlMethods,
  controlText,
  parseCertificate,
  verifySignature,
  type CardCertificate,
  type ControlReply,
} from '@ceb179/protocol';
import { classifyRefusal } from './card-faults';
import type { PinGate } from './pin-gate';

export interface ControlCaller {
  call(method: string, args: Record<string, string>, options?: { carriesPin?: boolean }): Promise<ControlReply>;
}

export interface Signature {
  /** Canonical base64: whatever line breaks, blanks or PEM armour the control added are gone. */
  signValue: string;
  /** Exactly as customs registers it: the lowercase hex serial of the card's certificate. */
  certNo: string;
}

/**
 * The operator card as seen through the control: its certificate (read before any PIN is sent,
 * the algorithm detected from it) and signing. The PIN is held here and only ever placed in the
 * `passwd` argument of a call that goes through the PIN gate.
 */
export class Card {
  private cert: CardCertificate | undefined;

  constructor(
    private readonly control: ControlCaller,
    private readonly pin: string,
    private readonly gate: PinGate,
  ) {}

  get certificate(): CardCertificate {
    if (!this.cert) throw new AppError('INTERNAL', 'card certificate not read yet');
    return this.cert;
  }

  get pinGate(): PinGate {
    return this.gate;
  }

  /**
   * Reads certNo and the signing certificate (no PIN), checks they belong together and binds the
   * PIN gate to this card. Also the PIN-free probe the gate asks for after an unanswered PIN call.
   */
  async readCertificate(): Promise<CardCertificate> {
    const reportedCertNo = controlText((await this.expectData(ControlMethods.getCertNo, {}))[0]).trim();
    const certificateText = controlText((await this.expectData(ControlMethods.getSignCertAsPem, {}))[0]);
    const certificate = parseCertificate(canonicalBase64(certificateText) ?? certificateText);
    if (reportedCertNo && !sameCertNo(reportedCertNo, certificate.certNo)) {
      throw new AppError(
        'CONFIG',
        `the control reports certNo ${reportedCertNo} but the signing certificate's serial is ${certificate.certNo}`,
      );
    }
    this.cert = certificate;
    this.gate.bindCard(certificate.certNo);
    this.gate.probed();
    return certificate;
  }

  async cardId(): Promise<string> {
    const data = await this.expectData(ControlMethods.getCardId, {}).catch(() => ['unknown']);
    return controlText(data[0], 'unknown');
  }

  /** Signs the UTF-8 bytes of `signString` on the card. Does not verify: see verify(). */
  async sign(signString: string): Promise<Signature> {
    const certificate = this.certificate;
    const returned = await this.signAsReturned(signString);
    if (!returned.signature.trim()) throw new AppError('PROTOCOL', 'the control returned no signature');
    const signValue = canonicalBase64(returned.signature);
    if (!signValue)
      throw new AppError('PROTOCOL', `the control returned a signature that is not base64 (${returned.signature.length} characters)`);
    const reportedCertNo = returned.certNo.trim();
    if (reportedCertNo && !sameCertNo(reportedCertNo, certificate.certNo)) {
      throw new AppError(
        'SIGNATURE_INVALID',
        `the control signed with certNo ${reportedCertNo}, not the card read at start-up (${certificate.certNo}): was the card swapped?`,
      );
    }
    return { signValue, certNo: certificate.certNo };
  }

  /** The sign reply's Data[0] and Data[1] exactly as the control wrote them (for first contact's report). */
  async signAsReturned(signString: string): Promise<{ signature: string; certNo: string }> {
    void this.certificate; // throws before any PIN is sent to a card not yet identified
    if (this.gate.state === 'probe-required') {
      // The last PIN-carrying call got no verdict: the card must answer without the PIN first.
      await this.expectData(ControlMethods.getCertNo, {});
      this.gate.probed();
    }
    const data = await this.expectData(ControlMethods.signDataAsPem, { inData: signString, passwd: this.pin }, true);
    return { signature: controlText(data[0]), certNo: controlText(data[1]) };
  }

  /** Verifies against the card's certificate; the certNo must be that certificate's. */
  verify(signString: string, signature: Signature): boolean {
    const certificate = this.certificate;
    return sameCertNo(signature.certNo, certificate.certNo) && verifySignature(certificate, signString, signature.signValue);
  }

  private async expectData(method: string, args: Record<string, string>, carriesPin = false): Promise<unknown[]> {
    const reply = await this.control.call(method, args, { carriesPin });
    if (!reply.result) throw classifyRefusal(method, reply.errors, carriesPin);
    return reply.data;
  }
}

/** The control's certNo and the certificate's serial may differ in case and leading zeros only. */
export function sameCertNo(a: string, b: string): boolean {
  const canonical = (hex: string) => hex.toLowerCase().replace(/^0+(?=.)/, '');
  return canonical(a) === canonical(b);
}
