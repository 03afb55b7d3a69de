import { generateKeyPairSync, sign as rsaSign, constants, type KeyObject } from 'node:crypto';
import type { SignJobMessage } from '@ceb179/contracts';
import { AppError } from '@ceb179/errors';
import { verifySignature, type CardCertificate } from '@ceb179/protocol';
import type { Signature } from './card';
import type { ReaderCircuit, SignaturePublisher, SigningCard } from './sign-document.use-case';

const PROBE_SESSION = '"sessionID":"ceb179-signer-self-test"';

/**
 * The operator card behind the E-Port control, in memory: a real RSA key signing the UTF-8 bytes of
 * what it is given (RSA-SHA1, PKCS#1 v1.5, as the card does), verified with the protocol library.
 * A test makes it mangle some documents, mangle all of them, or refuse.
 */
export class FakeCard implements SigningCard {
  readonly certificate: CardCertificate;
  /** Every sign string that reached the card, probes included. */
  readonly signed: string[] = [];
  /** Documents whose signature comes out wrong (the control alters the text before the card signs it). */
  mangles: (signString: string) => boolean = () => false;
  /** Thrown by sign() instead of signing; the probe too unless `probeRefusal` says otherwise. */
  refusal: Error | undefined;
  probeRefusal: Error | undefined;
  /** Holds the probe's signature until released, so a test can have several jobs fail at once. */
  probeGate: Promise<void> | undefined;
  private readonly privateKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    this.privateKey = privateKey;
    this.certificate = {
      certNo: '01691f7f',
      algorithm: 'RSA-SHA1',
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2028-01-01T00:00:00Z'),
      subject: 'CN=operator card (fake)',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      der: Buffer.alloc(0),
    };
  }

  get probes(): number {
    return this.signed.filter((text) => text.startsWith(PROBE_SESSION)).length;
  }

  get documentsSigned(): number {
    return this.signed.length - this.probes;
  }

  async sign(signString: string): Promise<Signature> {
    this.signed.push(signString);
    const probe = signString.startsWith(PROBE_SESSION);
    if (probe && this.probeGate) await this.probeGate;
    const refusal = probe ? (this.probeRefusal ?? this.refusal) : this.refusal;
    if (refusal) throw refusal;
    const text = this.mangles(signString) ? `${signString} ` : signString;
    const signValue = rsaSign('sha1', Buffer.from(text, 'utf8'), { key: this.privateKey, padding: constants.RSA_PKCS1_PADDING }).toString(
      'base64',
    );
    return { signValue, certNo: this.certificate.certNo };
  }

  verify(signString: string, signature: Signature): boolean {
    return signature.certNo === this.certificate.certNo && verifySignature(this.certificate, signString, signature.signValue);
  }
}

export class FakeReaderCircuit implements ReaderCircuit {
  isOpen = false;
  readonly faults: string[] = [];
  successes = 0;

  success(): void {
    this.successes += 1;
  }

  fault(problem: string): void {
    this.faults.push(problem);
  }
}

export class RecordingSignatures implements SignaturePublisher {
  readonly published: Array<{ sessionID: string; signValue: string; certNo: string }> = [];

  publish(job: SignJobMessage, signValue: string, certNo: string): Promise<void> {
    this.published.push({ sessionID: job.sessionID, signValue, certNo });
    return Promise.resolve();
  }
}

export const cardRefuses = {
  pin: () => new AppError('CARD_PIN', 'the control refused a PIN-bearing call (Err:PIN)'),
  reader: () => new AppError('CARD_FAULT', 'no card in the reader (Err:Custom50200)'),
  swappedCard: () =>
    new AppError(
      'SIGNATURE_INVALID',
      'the control signed with certNo 0badc0de, not the card read at start-up (01691f7f): was the card swapped?',
    ),
};
