import { AppError } from '@ceb179/errors';
import { DerError, DerTag, decodeOid, derChildren, derContent, encodeDer, expectTag, readDerDocument, type DerNode } from './der';
import { fromPem, toPem } from './pem';

/** Old cards: RSA-1024 with SHA1withRSA; cards since about mid-2022: SM2 with SM3withSM2 (docs/protocol.md §4). */
export type SignAlgorithm = 'RSA-SHA1' | 'SM2-SM3';

export interface PublicKeyRef {
  algorithm: SignAlgorithm;
  publicKeyPem: string;
}

export const Oids = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  /** The SM2 curve; some issuers also put it as the key algorithm itself. */
  sm2: '1.2.156.10197.1.301',
} as const;

export interface SubjectPublicKey {
  algorithm: SignAlgorithm;
  /** The whole SubjectPublicKeyInfo. */
  spkiDer: Buffer;
  /** The BIT STRING payload: PKCS#1 RSAPublicKey, or the 04||x||y point for SM2. */
  keyBytes: Buffer;
}

/** Reads a SubjectPublicKeyInfo and tells the signing algorithm from its key algorithm and curve. */
export function readSubjectPublicKey(buf: Buffer, spki: DerNode): SubjectPublicKey {
  const [algorithmId, bits] = derChildren(buf, expectTag(spki, DerTag.sequence, 'SubjectPublicKeyInfo'));
  const [oidNode, params] = derChildren(buf, expectTag(algorithmId, DerTag.sequence, 'key AlgorithmIdentifier'));
  const keyOid = decodeOid(derContent(buf, expectTag(oidNode, DerTag.oid, 'key algorithm OID')));
  const bitString = derContent(buf, expectTag(bits, DerTag.bitString, 'subjectPublicKey'));
  if (bitString.length < 2 || bitString[0] !== 0) throw new DerError('subjectPublicKey has unused bits');
  const keyBytes = bitString.subarray(1);
  const spkiDer = buf.subarray(spki.start, spki.end);

  if (keyOid === Oids.rsaEncryption) return { algorithm: 'RSA-SHA1', spkiDer, keyBytes };
  const curve = params && params.tag === DerTag.oid ? decodeOid(derContent(buf, params)) : undefined;
  if (keyOid === Oids.sm2 || (keyOid === Oids.ecPublicKey && curve === Oids.sm2)) {
    if (keyBytes.length !== 65 || keyBytes[0] !== 0x04) {
      throw new DerError('SM2 public key is not an uncompressed 65-byte point');
    }
    return { algorithm: 'SM2-SM3', spkiDer, keyBytes };
  }
  throw new DerError(`unsupported key algorithm ${keyOid}${curve ? ` (curve ${curve})` : ''}`);
}

/** Public key PEM ('PUBLIC KEY', SPKI) -> its parts. Throws AppError('PROTOCOL'): the key came from a card or a registry. */
export function readPublicKeyPem(pem: string): SubjectPublicKey {
  const block = typeof pem === 'string' ? fromPem(pem, ['PUBLIC KEY']) : null;
  if (!block) throw new AppError('PROTOCOL', 'not a PEM public key (expected -----BEGIN PUBLIC KEY-----)');
  try {
    return readSubjectPublicKey(block.der, readDerDocument(block.der));
  } catch (cause) {
    if (cause instanceof DerError) throw new AppError('PROTOCOL', `unusable public key: ${cause.message}`, { cause });
    throw cause;
  }
}

export function detectAlgorithmFromPublicKeyPem(pem: string): SignAlgorithm {
  if (typeof pem === 'string' && fromPem(pem, ['RSA PUBLIC KEY'])) return 'RSA-SHA1';
  return readPublicKeyPem(pem).algorithm;
}

const SM2_ALGORITHM_ID = encodeDer(
  DerTag.sequence,
  Buffer.concat([
    Buffer.from('06072a8648ce3d0201', 'hex'), // ecPublicKey
    Buffer.from('06082a811ccf5501822d', 'hex'), // sm2 curve
  ]),
);

/** 04||x||y hex (what sm-crypto and the vectors use) -> SPKI PEM, for simulators and registries. */
export function sm2PublicKeyPemFromHex(publicKeyHex: string): string {
  if (!/^04[0-9a-fA-F]{128}$/.test(publicKeyHex)) {
    throw new AppError('INVALID_INPUT', 'SM2 public key must be 04||x||y in hex (130 digits)');
  }
  const bits = encodeDer(DerTag.bitString, Buffer.concat([Buffer.from([0]), Buffer.from(publicKeyHex, 'hex')]));
  return toPem('PUBLIC KEY', encodeDer(DerTag.sequence, Buffer.concat([SM2_ALGORITHM_ID, bits])));
}

/** SPKI PEM of an SM2 key -> lowercase 04||x||y hex. */
export function sm2PublicKeyHexFromPem(pem: string): string {
  const key = readPublicKeyPem(pem);
  if (key.algorithm !== 'SM2-SM3') throw new AppError('PROTOCOL', 'not an SM2 public key');
  return key.keyBytes.toString('hex');
}
