import { constants, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { AppError } from '@ceb179/errors';
import { decodeBase64 } from './pem';
import { readPublicKeyPem, type PublicKeyRef } from './public-key';
import type { CardCertificate } from './certificate';
import { sm2SignatureToRaw, verifySm2Sm3 } from './sm2';

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
  const publicKey = readPublicKeyPem(key.publicKeyPem);
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
  const rsa = rsaKey(key.publicKeyPem);
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
