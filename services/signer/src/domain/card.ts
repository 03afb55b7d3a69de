import { AppError } from '@ceb179/errors';
import { ControlMethods, parseCertificate, verifySignature, type CardCertificate, type ControlReply } from '@ceb179/protocol';
import { classifyRefusal } from './card-faults';

export interface ControlCaller {
  call(method: string, args: Record<string, string>): Promise<ControlReply>;
}

export interface Signature {
  signValue: string;
  certNo: string;
}

/**
 * The operator card as seen through the control: its certificate (read once at start-up, the
 * algorithm detected from it) and signing. The PIN is held here and only ever placed in the
 * `passwd` argument of a control request.
 */
export class Card {
  private cert: CardCertificate | undefined;

  constructor(
    private readonly control: ControlCaller,
    private readonly pin: string,
  ) {}

  get certificate(): CardCertificate {
    if (!this.cert) throw new AppError('INTERNAL', 'card certificate not read yet');
    return this.cert;
  }

  /** Reads certNo and the signing certificate and checks they belong together. */
  async readCertificate(): Promise<CardCertificate> {
    const certNo = String((await this.expectData(ControlMethods.getCertNo, {}))[0] ?? '');
    const certificateText = String((await this.expectData(ControlMethods.getSignCertAsPem, {}))[0] ?? '');
    const certificate = parseCertificate(certificateText);
    if (certNo && !sameCertNo(certNo, certificate.certNo)) {
      throw new AppError('CONFIG', `the control reports certNo ${certNo} but the signing certificate's serial is ${certificate.certNo}`);
    }
    this.cert = certificate;
    return certificate;
  }

  async cardId(): Promise<string> {
    const data = await this.expectData(ControlMethods.getCardId, {}).catch(() => ['unknown']);
    return String(data[0] ?? 'unknown');
  }

  /** Signs the UTF-8 bytes of `signString` on the card. Does not verify: see verify(). */
  async sign(signString: string): Promise<Signature> {
    const data = await this.expectData(ControlMethods.signDataAsPem, { inData: signString, passwd: this.pin }, true);
    const signValue = String(data[0] ?? '');
    if (!signValue) throw new AppError('PROTOCOL', 'the control returned no signature');
    const certNo = String(data[1] ?? this.certificate.certNo).toLowerCase();
    return { signValue, certNo };
  }

  /** Verifies against the card's certificate; the certNo must be that certificate's. */
  verify(signString: string, signature: Signature): boolean {
    const certificate = this.certificate;
    return sameCertNo(signature.certNo, certificate.certNo) && verifySignature(certificate, signString, signature.signValue);
  }

  private async expectData(method: string, args: Record<string, string>, carriesPin = false): Promise<unknown[]> {
    const reply = await this.control.call(method, args);
    if (!reply.result) throw classifyRefusal(method, reply.errors, carriesPin);
    return reply.data;
  }
}

/** The control's certNo and the certificate's serial may differ in case and leading zeros only. */
function sameCertNo(a: string, b: string): boolean {
  const canonical = (hex: string) => hex.toLowerCase().replace(/^0+(?=.)/, '');
  return canonical(a) === canonical(b);
}
