import { createPrivateKey, generateKeyPairSync, randomBytes, randomInt, sign as nodeSign, timingSafeEqual } from 'node:crypto';
import { sm2 } from 'sm-crypto';
import { AppError } from '@ceb179/errors';
import { mintRsaCertificate, mintSm2Certificate } from './certificate';

export type CardAlgorithm = 'RSA' | 'SM2';

export interface SoftCardOptions {
  algorithm: CardAlgorithm;
  pin: string;
  cardId?: string;
  /** Default random: 8 hex digits for RSA, 16 for SM2, first byte 01..7f. Must not start with 00. */
  serialHex?: string;
  /** Defaults: now - 1 day .. now + 365 days. */
  notBefore?: Date;
  notAfter?: Date;
  subjectCN?: string;
}

/** What a demo card file holds. It includes the private key and the PIN: keep such files out of git. */
export interface SoftCardJSON {
  format: typeof CARD_FORMAT;
  algorithm: CardAlgorithm;
  cardId: string;
  pin: string;
  certNo: string;
  certificateBase64: string;
  /** RSA: PKCS#8 PEM. SM2: 64 hex digits. */
  privateKey: string;
  /** SM2 only: the uncompressed point (04 + x + y) in hex, saved so signing needs no point multiplication. */
  publicKeyHex?: string;
}

const CARD_FORMAT = 'ceb179-soft-card/1';
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A software stand-in for an operator IC card: a key pair, its self-signed certificate and
 * a PIN. PIN attempts and lock-out are the simulator's business (per simulator, so one card
 * object can serve several tests), the card only answers whether a PIN is its PIN.
 */
export class SoftCard {
  private constructor(
    readonly algorithm: CardAlgorithm,
    readonly cardId: string,
    readonly certNo: string,
    readonly certificateBase64: string,
    private pin: string,
    private readonly privateKey: string,
    private readonly publicKeyHex: string | undefined,
  ) {}

  static create(options: SoftCardOptions): SoftCard {
    if (options.algorithm !== 'RSA' && options.algorithm !== 'SM2') {
      throw new AppError('INVALID_INPUT', `SoftCard: algorithm must be RSA or SM2, got ${String(options.algorithm)}`);
    }
    if (typeof options.pin !== 'string' || options.pin === '') {
      throw new AppError('INVALID_INPUT', 'SoftCard: a non-empty pin is required');
    }
    const serial = serialBytes(options.algorithm, options.serialHex);
    const now = Date.now();
    const notBefore = options.notBefore ?? new Date(now - DAY_MS);
    const notAfter = options.notAfter ?? new Date(now + 365 * DAY_MS);
    if (!(notBefore.getTime() < notAfter.getTime())) {
      throw new AppError('INVALID_INPUT', 'SoftCard: notBefore must be before notAfter');
    }
    const cardId = options.cardId ?? randomCardId();
    const certNo = serial.toString('hex');
    const subject = {
      commonName: options.subjectCN ?? `ceb179 simulated operator card ${cardId}`,
      organization: 'ceb179 simulator',
      organizationalUnit: `${options.algorithm} operator card`,
    };
    const validity = { serial, notBefore, notAfter, subject };

    if (options.algorithm === 'RSA') {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const certificate = mintRsaCertificate({ ...validity, privateKey });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      return new SoftCard('RSA', cardId, certNo, certificate.toString('base64'), options.pin, pem, undefined);
    }
    const keys = sm2.generateKeyPairHex();
    const certificate = mintSm2Certificate({ ...validity, privateKeyHex: keys.privateKey, publicKeyHex: keys.publicKey });
    return new SoftCard('SM2', cardId, certNo, certificate.toString('base64'), options.pin, keys.privateKey, keys.publicKey);
  }

  static fromJSON(json: SoftCardJSON): SoftCard {
    const problems: string[] = [];
    // Read from a file: check every field rather than trust the declared type.
    const raw = json as unknown as Record<string, unknown> | null | undefined;
    const text = (key: keyof SoftCardJSON) => {
      const value = raw?.[key];
      if (typeof value !== 'string' || value === '') problems.push(`${key} must be a non-empty string`);
      return typeof value === 'string' ? value : '';
    };
    if (raw?.['format'] !== CARD_FORMAT) problems.push(`format must be ${CARD_FORMAT}`);
    const algorithm = text('algorithm');
    if (algorithm !== 'RSA' && algorithm !== 'SM2') problems.push('algorithm must be RSA or SM2');
    const fields = {
      cardId: text('cardId'),
      pin: text('pin'),
      certNo: text('certNo'),
      certificateBase64: text('certificateBase64'),
      privateKey: text('privateKey'),
    };
    const publicKeyHex = algorithm === 'SM2' ? text('publicKeyHex') : undefined;
    if (problems.length > 0) {
      throw new AppError('INVALID_INPUT', 'not a soft card file', {
        fields: problems.map((p) => ({ field: 'card', problem: p })),
      });
    }
    if (algorithm === 'RSA') createPrivateKey(fields.privateKey); // fail now, not at the first signature
    return new SoftCard(
      algorithm as CardAlgorithm,
      fields.cardId,
      fields.certNo,
      fields.certificateBase64,
      fields.pin,
      fields.privateKey,
      publicKeyHex,
    );
  }

  toJSON(): SoftCardJSON {
    return {
      format: CARD_FORMAT,
      algorithm: this.algorithm,
      cardId: this.cardId,
      pin: this.pin,
      certNo: this.certNo,
      certificateBase64: this.certificateBase64,
      privateKey: this.privateKey,
      ...(this.publicKeyHex === undefined ? {} : { publicKeyHex: this.publicKeyHex }),
    };
  }

  /** The holder changed the PIN (or the card was re-issued with another): the old one is now wrong. */
  changePin(newPin: string): void {
    if (typeof newPin !== 'string' || newPin === '') throw new AppError('INVALID_INPUT', 'SoftCard: a non-empty pin is required');
    this.pin = newPin;
  }

  /** Constant-time, so a test harness timing the simulator learns nothing either. */
  pinMatches(candidate: string): boolean {
    const a = Buffer.from(candidate, 'utf8');
    const b = Buffer.from(this.pin, 'utf8');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /**
   * Signs the UTF-8 bytes of `message` the way the card does: RSA = SHA1withRSA PKCS#1 v1.5
   * (172 base64 chars for a 1024-bit key); SM2 = SM3withSM2 with the default user id
   * 1234567812345678, raw r||s of 32 bytes each (88 base64 chars).
   */
  sign(message: string): string {
    return this.signBytes(Buffer.from(message, 'utf8'));
  }

  /** Signs exactly these bytes (a control that encodes the text otherwise than UTF-8 is simulated with it). */
  signBytes(bytes: Buffer): string {
    if (this.algorithm === 'RSA') return nodeSign('sha1', bytes, this.privateKey).toString('base64');
    const rs = sm2.doSignature(Array.from(bytes), this.privateKey, {
      hash: true,
      der: false,
      ...(this.publicKeyHex === undefined ? {} : { publicKey: this.publicKeyHex }),
    });
    // sm-crypto pads today; pad again so a short r or s can never shift the split point.
    const r = rs.slice(0, 64).padStart(64, '0');
    const s = rs.slice(64).padStart(64, '0');
    return Buffer.from(r + s, 'hex').toString('base64');
  }

  /** Never print the PIN or the key, even by accident (console.log, util.inspect). */
  toString(): string {
    return `SoftCard(${this.algorithm}, certNo ${this.certNo}, cardId ${this.cardId})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * certNo is the lowercase hex of the serial's bytes. A DER INTEGER is minimal, so a leading 00
 * byte would vanish from the encoding and the certNo would no longer match the certificate:
 * such serials are refused. A top bit set is fine: the encoder adds the 00 sign byte, which is
 * not part of the certNo (parseCertificate drops it too). Random serials avoid both cases.
 */
function serialBytes(algorithm: CardAlgorithm, serialHex: string | undefined): Buffer {
  if (serialHex === undefined) {
    const bytes = randomBytes(algorithm === 'RSA' ? 4 : 8);
    bytes[0] = randomInt(0x01, 0x80);
    return bytes;
  }
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(serialHex)) {
    throw new AppError('INVALID_INPUT', 'SoftCard: serialHex must be an even number of hex digits');
  }
  const bytes = Buffer.from(serialHex, 'hex');
  if (bytes[0] === 0) throw new AppError('INVALID_INPUT', 'SoftCard: serialHex must not start with a 00 byte');
  return bytes;
}

function randomCardId(): string {
  // Looks like a card number: 16 digits, no leading zero.
  let id = String(randomInt(1, 10));
  while (id.length < 16) id += String(randomInt(0, 10));
  return id;
}
