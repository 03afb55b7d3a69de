import { constants, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { AppError } from '@ceb179/errors';
import { decodeBase64 } from './pem';
import { readPublicKeyPem, type PublicKeyRef, type SubjectPublicKey } from './public-key';
import type { CardCertificate } from './certificate';
import { sm2SignatureToRaw, verifySm2Sm3 } from './sm2';

interface ParsedKey {
  publicKey: SubjectPublicKey;
  rsa?: KeyObject;
}

/**
 * Parsed keys by PEM text. A service verifies every signature against the same one or few card
 * keys, and parsing the PEM (and OpenSSL's createPublicKey) cost more CPU than the RSA
 * verification itself. Bounded: a caller passing ever new keys only re-parses.
 */
const parsedKeys = new Map<string, ParsedKey>();
const PARSED_KEYS_KEPT = 64;

function parsedKey(publicKeyPem: string): ParsedKey {
  const known = parsedKeys.get(publicKeyPem);
  if (known) return known;
  const publicKey = readPublicKeyPem(publicKeyPem);
  const parsed: ParsedKey = { publicKey, ...(publicKey.algorithm === 'RSA-SHA1' ? { rsa: rsaKey(publicKeyPem) } : {}) };
  if (parsedKeys.size >= PARSED_KEYS_KEPT) parsedKeys.clear();
  parsedKeys.set(publicKeyPem, parsed);
  return parsed;
}

function rsaKey(publicKeyPem: string): KeyObject {
  try {
    return createPublicKey(publicKeyPem);
  } catch (cause) {
    throw new AppError('PROTOCOL', 'unusable RSA public key', { cause });
  }
}

/**
 * Verifies the card's signature over the UTF-8 bytes of `message`. A bad signature of any kind
 * (wrong key, tampered text, wrong length, not base64) is `false`, never an exception; an unusable
 * key, or a key whose type contradicts `algorithm`, throws: that is configuration, not a bad signature.
 * The algorithm is not guessed from the signature length: the key decides.
 */
export function verifySignature(key: PublicKeyRef | CardCertificate, message: string, signValueBase64: string): boolean {
  if (typeof message !== 'string') return false;
  return verifySignatureOverBytes(key, Buffer.from(message, 'utf8'), signValueBase64);
}

/**
 * verifySignature over given bytes instead of the UTF-8 of a text: for diagnosing a control that
 * signs another encoding of the sign string (e.g. GBK), never for accepting a signature.
 */
export function verifySignatureOverBytes(key: PublicKeyRef | CardCertificate, message: Buffer, signValueBase64: string): boolean {
  const { publicKey, rsa } = parsedKey(key.publicKeyPem);
  if (publicKey.algorithm !== key.algorithm) {
    throw new AppError('INVALID_INPUT', `key is declared ${key.algorithm} but holds an ${publicKey.algorithm} key`);
  }
  if (!Buffer.isBuffer(message) || typeof signValueBase64 !== 'string') return false;
  const signature = decodeBase64(signValueBase64);
  if (!signature) return false;

  if (publicKey.algorithm === 'SM2-SM3') {
    const raw = sm2SignatureToRaw(signature);
    if (!raw) return false;
    try {
      return verifySm2Sm3(publicKey.keyBytes.toString('hex'), message, raw);
    } catch {
      return false;
    }
  }
  if (!rsa) return false;
  try {
    return nodeVerify('sha1', message, { key: rsa, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    // OpenSSL reports a wrong-length signature as an error rather than a mismatch.
    return false;
  }
}

/** For the card simulator: SHA1withRSA PKCS#1 v1.5, base64, as old RSA-1024 cards return it. */
export function signRsaSha1(message: string, privateKeyPem: string): string {
  return nodeSign('sha1', Buffer.from(message, 'utf8'), { key: privateKeyPem, padding: constants.RSA_PKCS1_PADDING }).toString('base64');
}
