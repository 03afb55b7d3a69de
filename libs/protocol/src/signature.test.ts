import { generateKeyPairSync } from 'node:crypto';
import { sm2 } from 'sm-crypto';
import { AppError } from '@ceb179/errors';
import {
  detectAlgorithmFromPublicKeyPem,
  signRsaSha1,
  signSm2Sm3,
  sm2PublicKeyHexFromPem,
  sm2PublicKeyPemFromHex,
  sm2SignatureToRaw,
  verifySignature,
  type PublicKeyRef,
} from './index';
import { DerTag, encodeDer } from './der';
import { loadGoldenVectors } from './testing/golden-vectors';

const vectors = loadGoldenVectors();
const signatures = vectors.signatures;
const message = (vectors.cases[0] as { expected: { signString: string } }).expected.signString;
const rsaKey: PublicKeyRef = { algorithm: 'RSA-SHA1', publicKeyPem: signatures.rsa.publicKeyPem };
const sm2Key: PublicKeyRef = { algorithm: 'SM2-SM3', publicKeyPem: signatures.sm2.publicKeyPem };

function derInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const content = ((trimmed[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return encodeDer(DerTag.integer, content);
}

function rawToDer(raw: Buffer): Buffer {
  return encodeDer(DerTag.sequence, Buffer.concat([derInteger(raw.subarray(0, 32)), derInteger(raw.subarray(32))]));
}

describe('golden signatures', () => {
  it('says the message is case 0 sign string', () => {
    expect(signatures.message).toMatch(/case 0 signString/);
  });

  it.each([
    ['rsa', rsaKey, signatures.rsa],
    ['sm2', sm2Key, signatures.sm2],
  ] as const)('%s: the golden signature verifies and the tampered message fails', (_name, key, golden) => {
    expect(golden.signValue).toHaveLength(golden.base64Length);
    expect(verifySignature(key, message, golden.signValue)).toBe(golden.validForMessage);
    expect(golden.tamperedMessageMustFail).not.toBe(message);
    expect(verifySignature(key, golden.tamperedMessageMustFail, golden.signValue)).toBe(false);
  });

  it('detects the algorithm from the public key', () => {
    expect(detectAlgorithmFromPublicKeyPem(signatures.rsa.publicKeyPem)).toBe('RSA-SHA1');
    expect(detectAlgorithmFromPublicKeyPem(signatures.sm2.publicKeyPem)).toBe('SM2-SM3');
    const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(detectAlgorithmFromPublicKeyPem(pkcs1)).toBe('RSA-SHA1');
  });

  it('refuses keys it cannot use', () => {
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => detectAlgorithmFromPublicKeyPem(ed25519)).toThrow(expect.objectContaining({ code: 'PROTOCOL' }));
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => detectAlgorithmFromPublicKeyPem(p256)).toThrow(
      /unsupported key algorithm 1\.2\.840\.10045\.2\.1 \(curve 1\.2\.840\.10045\.3\.1\.7\)/,
    );
    expect(() => detectAlgorithmFromPublicKeyPem('not a key')).toThrow(AppError);
    expect(() => detectAlgorithmFromPublicKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')).toThrow(AppError);
  });

  it('converts between the SM2 point hex and the SPKI PEM', () => {
    expect(sm2PublicKeyHexFromPem(signatures.sm2.publicKeyPem)).toBe(signatures.sm2.publicKeyUncompressedHex);
    expect(sm2PublicKeyPemFromHex(signatures.sm2.publicKeyUncompressedHex as string)).toBe(signatures.sm2.publicKeyPem);
    expect(() => sm2PublicKeyPemFromHex('04abc')).toThrow(AppError);
    expect(() => sm2PublicKeyHexFromPem(signatures.rsa.publicKeyPem)).toThrow(AppError);
  });
});

describe('verifySignature: bad signatures are false, never exceptions', () => {
  const rsaSig = signatures.rsa.signValue;
  const sm2Sig = signatures.sm2.signValue;

  it.each([
    ['empty', ''],
    ['too short', 'AAAA'],
    ['not base64', '!!!!not-base64!!!!'],
    ['missing padding', 'AAA'],
    ['truncated', rsaSig.slice(0, -4)],
    ['too long', `${rsaSig}AAAA`],
    ['the SM2 signature', sm2Sig],
    ['zero bytes', Buffer.alloc(128).toString('base64')],
  ])('RSA: %s', (_what, signValue) => {
    expect(verifySignature(rsaKey, message, signValue)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['too short', 'AAAA'],
    ['not base64', '%%%%'],
    ['truncated', sm2Sig.slice(0, -4)],
    ['too long', `${sm2Sig.slice(0, -2)}AAAAAA==`],
    ['the RSA signature', rsaSig],
    ['r = s = 0', Buffer.alloc(64).toString('base64')],
    ['all ones', Buffer.alloc(64, 0xff).toString('base64')],
    ['a DER blob that is not r,s', encodeDer(DerTag.sequence, encodeDer(DerTag.integer, Buffer.from([1]))).toString('base64')],
  ])('SM2: %s', (_what, signValue) => {
    expect(verifySignature(sm2Key, message, signValue)).toBe(false);
  });

  it('returns false for non-string input instead of throwing', () => {
    expect(verifySignature(rsaKey, message, undefined as unknown as string)).toBe(false);
    expect(verifySignature(sm2Key, null as unknown as string, sm2Sig)).toBe(false);
  });

  it('tolerates line breaks in the base64, as some card software wraps it', () => {
    const wrapped = rsaSig.replace(/(.{64})/g, '$1\r\n');
    expect(verifySignature(rsaKey, message, wrapped)).toBe(true);
  });

  it('throws for a key whose declared algorithm contradicts the key itself', () => {
    expect(() => verifySignature({ algorithm: 'RSA-SHA1', publicKeyPem: signatures.sm2.publicKeyPem }, message, sm2Sig)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => verifySignature({ algorithm: 'SM2-SM3', publicKeyPem: 'garbage' }, message, sm2Sig)).toThrow(AppError);
  });
});

describe('SM2 details', () => {
  it('accepts the DER form of an SM2 signature as well as raw r||s', () => {
    const raw = Buffer.from(signatures.sm2.signValue, 'base64');
    const der = rawToDer(raw);
    expect(der[0]).toBe(0x30);
    expect(sm2SignatureToRaw(der)).toEqual(raw);
    expect(verifySignature(sm2Key, message, der.toString('base64'))).toBe(true);
    expect(verifySignature(sm2Key, signatures.sm2.tamperedMessageMustFail, der.toString('base64'))).toBe(false);
  });

  it('normalises DER integers of any length up to 32 bytes', () => {
    const r = Buffer.alloc(32);
    r[31] = 5;
    const s = Buffer.alloc(32, 0x80);
    expect(sm2SignatureToRaw(rawToDer(Buffer.concat([r, s])))).toEqual(Buffer.concat([r, s]));
    const tooLong = encodeDer(DerTag.sequence, Buffer.concat([encodeDer(DerTag.integer, Buffer.alloc(33, 1)), derInteger(s)]));
    expect(sm2SignatureToRaw(tooLong)).toBeNull();
    const negative = encodeDer(DerTag.sequence, Buffer.concat([encodeDer(DerTag.integer, Buffer.from([0x80, 1])), derInteger(s)]));
    expect(sm2SignatureToRaw(negative)).toBeNull();
    expect(sm2SignatureToRaw(Buffer.from([0x30, 0x05, 0x02]))).toBeNull();
    expect(sm2SignatureToRaw(Buffer.alloc(63))).toBeNull();
  });

  it('signs as the cards do: sm-crypto with the default user id, raw r||s in base64 (88 characters)', () => {
    const pair = sm2.generateKeyPairHex();
    const key: PublicKeyRef = { algorithm: 'SM2-SM3', publicKeyPem: sm2PublicKeyPemFromHex(pair.publicKey) };
    const text = `${message} 中文 😀`;
    const signValue = signSm2Sm3(text, pair.privateKey, pair.publicKey);
    expect(signValue).toHaveLength(88);
    expect(verifySignature(key, text, signValue)).toBe(true);
    expect(verifySignature(key, `${text}.`, signValue)).toBe(false);
    // Independent check of the user id: sm-crypto's own verifier with the id made explicit.
    const hex = Buffer.from(signValue, 'base64').toString('hex');
    expect(sm2.doVerifySignature(text, hex, pair.publicKey, { hash: true, userId: '1234567812345678' })).toBe(true);
    expect(sm2.doVerifySignature(text, hex, pair.publicKey, { hash: true, userId: 'another id' })).toBe(false);
  });
});

describe('RSA details', () => {
  it('signs as old cards do: SHA1withRSA PKCS#1 v1.5, 172 base64 characters for RSA-1024', () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const key: PublicKeyRef = { algorithm: 'RSA-SHA1', publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string };
    const signValue = signRsaSha1(message, privateKeyPem);
    expect(signValue).toHaveLength(172);
    expect(verifySignature(key, message, signValue)).toBe(true);
    expect(verifySignature(key, message.replace('100', '101'), signValue)).toBe(false);
    expect(verifySignature(rsaKey, message, signValue)).toBe(false);
  });
});
