import { sm2 } from 'sm-crypto';
import { DerError, DerTag, derChildren, derContent, expectTag, readDerDocument } from './der';

/** GM/T 0009 default signer id, which the cards use (docs/protocol.md §4). */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

const COORDINATE_BYTES = 32;

function integerTo32Bytes(bytes: Buffer): Buffer | null {
  // A negative INTEGER is no coordinate.
  if (bytes.length === 0 || ((bytes[0] as number) & 0x80) !== 0) return null;
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const magnitude = bytes.subarray(start);
  if (magnitude.length > COORDINATE_BYTES) return null;
  return Buffer.concat([Buffer.alloc(COORDINATE_BYTES - magnitude.length), magnitude]);
}

/**
 * Cards return raw r||s (64 bytes); other GM/T tools emit DER SEQUENCE{r,s}. Both are accepted and
 * normalised to r||s; anything else is null, i.e. "not a signature".
 */
export function sm2SignatureToRaw(signature: Buffer): Buffer | null {
  if (signature.length === 2 * COORDINATE_BYTES) return signature;
  if (signature[0] !== DerTag.sequence) return null;
  try {
    const [r, s, extra] = derChildren(signature, readDerDocument(signature));
    if (extra) return null;
    const rBytes = integerTo32Bytes(derContent(signature, expectTag(r, DerTag.integer, 'r')));
    const sBytes = integerTo32Bytes(derContent(signature, expectTag(s, DerTag.integer, 's')));
    return rBytes && sBytes ? Buffer.concat([rBytes, sBytes]) : null;
  } catch (error) {
    if (error instanceof DerError) return null;
    throw error;
  }
}

/**
 * SM3withSM2 with the user id folded into the digest (Z value). Node's crypto skips the id, so its
 * SM2 results do not interoperate with the cards; sm-crypto implements GM/T 0003 as the cards do.
 * The message is handed over as UTF-8 bytes so sm-crypto never re-encodes text itself.
 */
export function verifySm2Sm3(publicKeyHex: string, message: string | Buffer, rawSignature: Buffer): boolean {
  if (rawSignature.length !== 2 * COORDINATE_BYTES) return false;
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return sm2.doVerifySignature(Array.from(bytes), rawSignature.toString('hex'), publicKeyHex, {
    hash: true,
    der: false,
    userId: SM2_DEFAULT_USER_ID,
  });
}

/** For the card simulator: an SM3withSM2 signature as the control returns it (base64 of raw r||s). */
export function signSm2Sm3(message: string, privateKeyHex: string, publicKeyHex: string): string {
  const hex = sm2.doSignature(Array.from(Buffer.from(message, 'utf8')), privateKeyHex, {
    hash: true,
    der: false,
    publicKey: publicKeyHex,
    userId: SM2_DEFAULT_USER_ID,
  });
  return Buffer.from(hex, 'hex').toString('base64');
}
