import { execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppError } from '@ceb179/errors';
import {
  certNoFromSerialBytes,
  certificateSubjectFromDer,
  detectAlgorithmFromPublicKeyPem,
  parseCertificate,
  signRsaSha1,
  verifySignature,
} from './index';
import { DerTag, encodeDer } from './der';
import { fromPem } from './pem';
import { loadGoldenVectors } from './testing/golden-vectors';

const vectors = loadGoldenVectors();
const message = (vectors.cases[0] as { expected: { signString: string } }).expected.signString;
const sm2Golden = vectors.signatures.sm2;

function openssl(args: string[], cwd: string): Buffer {
  return execFileSync('openssl', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
}

function probe(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

const work = mkdtempSync(path.join(tmpdir(), 'ceb179-protocol-cert-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const hasOpenssl = probe(() => openssl(['version'], work));
const opensslHasSm2 =
  hasOpenssl && probe(() => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', 'probe-sm2.key'], work));

function bareBase64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

function selfSigned(name: string, keyArgs: string[], serial: string, subject: string): { pem: string; keyFile: string } {
  const keyFile = `${name}.key`;
  openssl(
    [
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      `${name}.pem`,
      '-days',
      '30',
      '-subj',
      subject,
      '-set_serial',
      serial,
      '-utf8',
    ],
    work,
  );
  return { pem: readFileSync(path.join(work, `${name}.pem`), 'utf8'), keyFile };
}

function expectSameAsNode(pem: string): void {
  const node = new X509Certificate(pem);
  const parsed = parseCertificate(pem);
  expect(parsed.certNo).toBe(node.serialNumber.toLowerCase());
  expect(parsed.subject).toBe(node.subject);
  expect(certificateSubjectFromDer(parsed.der)).toBe(node.subject);
  expect(parsed.notBefore.getTime()).toBe(new Date(node.validFrom).getTime());
  expect(parsed.notAfter.getTime()).toBe(new Date(node.validTo).getTime());
  expect(parsed.der.equals(node.raw)).toBe(true);
}

(hasOpenssl ? describe : describe.skip)('parseCertificate with openssl-made RSA-1024 certificates', () => {
  let rsa: { pem: string; keyFile: string };
  beforeAll(() => {
    rsa = selfSigned('rsa', ['-newkey', 'rsa:1024'], '0x01691f7f', '/C=CN/O=ceb179 测试/CN=operator card');
  });

  it('reads the control bare base64 DER: certNo keeps the leading zero, RSA detected', () => {
    const card = parseCertificate(bareBase64(rsa.pem));
    expect(card.certNo).toBe('01691f7f');
    expect(card.algorithm).toBe('RSA-SHA1');
    expect(card.subject).toBe('C=CN\nO=ceb179 测试\nCN=operator card');
    expect(card.notAfter.getTime() - card.notBefore.getTime()).toBe(30 * 24 * 3600 * 1000);
    expect(detectAlgorithmFromPublicKeyPem(card.publicKeyPem)).toBe('RSA-SHA1');
    expectSameAsNode(rsa.pem);
  });

  it('reads PEM text, DER bytes and PEM bytes alike', () => {
    const fromText = parseCertificate(rsa.pem);
    const der = (fromPem(rsa.pem, ['CERTIFICATE']) as { der: Buffer }).der;
    expect(parseCertificate(der)).toEqual(fromText);
    expect(parseCertificate(Buffer.from(rsa.pem))).toEqual(fromText);
    expect(parseCertificate(bareBase64(rsa.pem).replace(/(.{76})/g, '$1\r\n'))).toEqual(fromText);
  });

  it('verifies what openssl signs with the card key (SHA1withRSA), and signRsaSha1 agrees byte for byte', () => {
    const card = parseCertificate(rsa.pem);
    writeFileSync(path.join(work, 'message.txt'), message, 'utf8');
    const signature = openssl(['dgst', '-sha1', '-sign', rsa.keyFile, 'message.txt'], work).toString('base64');
    expect(signature).toHaveLength(172);
    expect(verifySignature(card, message, signature)).toBe(true);
    expect(verifySignature(card, `${message} `, signature)).toBe(false);
    expect(signRsaSha1(message, readFileSync(path.join(work, rsa.keyFile), 'utf8'))).toBe(signature);
  });

  it('drops only the DER sign byte of a serial with the top bit set', () => {
    const high = selfSigned('rsa-high', ['-newkey', 'rsa:1024'], '0x8a0000000000cde6', '/CN=high serial');
    expect(parseCertificate(high.pem).certNo).toBe('8a0000000000cde6');
    expectSameAsNode(high.pem);
  });
});

(opensslHasSm2 ? describe : describe.skip)('parseCertificate with an openssl-made SM2 certificate', () => {
  let sm2: { pem: string; keyFile: string };
  beforeAll(() => {
    sm2 = selfSigned('sm2', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:SM2'], '0x03000000000cde6f', '/C=CN/CN=sm2 operator card');
  });

  it('detects SM2 from the key and keeps the 16-digit certNo', () => {
    const card = parseCertificate(bareBase64(sm2.pem));
    expect(card.algorithm).toBe('SM2-SM3');
    expect(card.certNo).toBe('03000000000cde6f');
    expect(detectAlgorithmFromPublicKeyPem(card.publicKeyPem)).toBe('SM2-SM3');
    expectSameAsNode(sm2.pem);
  });

  it('verifies an SM3withSM2 signature made by OpenSSL with the GM/T default id (independent implementation, DER form)', () => {
    const card = parseCertificate(sm2.pem);
    writeFileSync(path.join(work, 'message.txt'), message, 'utf8');
    const der = openssl(['dgst', '-sm3', '-sign', sm2.keyFile, '-sigopt', 'distid:1234567812345678', 'message.txt'], work);
    expect(der[0]).toBe(0x30);
    expect(verifySignature(card, message, der.toString('base64'))).toBe(true);
    expect(verifySignature(card, vectors.signatures.sm2.tamperedMessageMustFail, der.toString('base64'))).toBe(false);
  });
});

// Hand-built certificates: always run, so SM2 parsing is covered even where openssl lacks SM2.
const tlv = (tag: number, ...parts: Buffer[]): Buffer => encodeDer(tag, Buffer.concat(parts));
const oid = (hex: string): Buffer => Buffer.from(`06${(hex.length / 2).toString(16).padStart(2, '0')}${hex}`, 'hex');
const SM3_WITH_SM2 = oid('2a811ccf55018375'); // 1.2.156.10197.1.501
const CN = oid('550403');
const O = oid('55040a');

function name(cn: string, organisation: string): Buffer {
  return tlv(
    DerTag.sequence,
    tlv(DerTag.set, tlv(DerTag.sequence, CN, tlv(DerTag.utf8String, Buffer.from(cn)))),
    tlv(DerTag.set, tlv(DerTag.sequence, O, tlv(DerTag.utf8String, Buffer.from(organisation)))),
  );
}

function handBuiltCertificate(options: { serial: Buffer; spki: Buffer; v1?: boolean }): Buffer {
  const algorithm = tlv(DerTag.sequence, SM3_WITH_SM2);
  const subject = name('ceb179 sm2 card', '测试单位');
  const tbs = tlv(
    DerTag.sequence,
    options.v1 ? Buffer.alloc(0) : tlv(0xa0, tlv(DerTag.integer, Buffer.from([2]))),
    tlv(DerTag.integer, options.serial),
    algorithm,
    subject,
    tlv(DerTag.sequence, tlv(DerTag.utcTime, Buffer.from('230101000000Z')), tlv(DerTag.generalizedTime, Buffer.from('20510630120000Z'))),
    subject,
    options.spki,
  );
  return tlv(DerTag.sequence, tbs, algorithm, tlv(DerTag.bitString, Buffer.alloc(65)));
}

const goldenSm2Spki = (fromPem(sm2Golden.publicKeyPem, ['PUBLIC KEY']) as { der: Buffer }).der;

describe('parseCertificate with hand-built certificates around the golden SM2 key', () => {
  const der = handBuiltCertificate({ serial: Buffer.from('03000000000cde6f', 'hex'), spki: goldenSm2Spki });

  it('detects SM2 (ecPublicKey on the SM2 curve) and verifies the golden signature with the certificate', () => {
    const card = parseCertificate(der.toString('base64'));
    expect(card).toMatchObject({
      certNo: '03000000000cde6f',
      algorithm: 'SM2-SM3',
      publicKeyPem: sm2Golden.publicKeyPem,
      notBefore: new Date('2023-01-01T00:00:00Z'),
      notAfter: new Date('2051-06-30T12:00:00Z'),
    });
    expect(card.subject).toBe('CN=ceb179 sm2 card\nO=测试单位');
    expect(certificateSubjectFromDer(der)).toBe('CN=ceb179 sm2 card\nO=测试单位');
    expect(verifySignature(card, message, sm2Golden.signValue)).toBe(true);
    expect(verifySignature(card, sm2Golden.tamperedMessageMustFail, sm2Golden.signValue)).toBe(false);
    expect(detectAlgorithmFromPublicKeyPem(sm2Golden.publicKeyPem)).toBe('SM2-SM3');
  });

  it('detects SM2 given as the key algorithm itself, in a v1 certificate', () => {
    const point = goldenSm2Spki.subarray(goldenSm2Spki.length - 65);
    const spki = tlv(DerTag.sequence, tlv(DerTag.sequence, oid('2a811ccf5501822d')), tlv(DerTag.bitString, Buffer.from([0]), point));
    const card = parseCertificate(handBuiltCertificate({ serial: Buffer.from('008a01', 'hex'), spki, v1: true }));
    expect(card.algorithm).toBe('SM2-SM3');
    expect(card.certNo).toBe('8a01');
    expect(verifySignature(card, message, sm2Golden.signValue)).toBe(true);
  });

  it('refuses a certificate whose key no card uses', () => {
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    expect(() => parseCertificate(handBuiltCertificate({ serial: Buffer.from([1]), spki: ed25519 }))).toThrow(
      expect.objectContaining({ code: 'PROTOCOL', message: expect.stringMatching(/unsupported key algorithm 1\.3\.101\.112/) }),
    );
  });

  it.each([
    ['empty text', ''],
    ['not base64', 'this is not a certificate'],
    ['random base64', Buffer.from('hello world, no DER here').toString('base64')],
    ['truncated DER', der.subarray(0, der.length - 10).toString('base64')],
    ['trailing bytes', Buffer.concat([der, Buffer.from([0])]).toString('base64')],
    ['a public key PEM', sm2Golden.publicKeyPem],
    ['a PEM with garbage inside', '-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n'],
    ['an empty sequence', Buffer.from([0x30, 0x00]).toString('base64')],
  ])('throws PROTOCOL on %s', (_what, input) => {
    expect(() => parseCertificate(input)).toThrow(AppError);
    expect(() => parseCertificate(input)).toThrow(expect.objectContaining({ code: 'PROTOCOL' }));
  });
});

describe('certNoFromSerialBytes', () => {
  it.each([
    ['01691f7f', '01691f7f'],
    ['03000000000cde6f', '03000000000cde6f'],
    ['008a0000000000cde6', '8a0000000000cde6'],
    ['00', '00'],
    ['0001', '0001'],
    ['FF', 'ff'],
  ])('%s -> %s', (hex, certNo) => {
    expect(certNoFromSerialBytes(Buffer.from(hex, 'hex'))).toBe(certNo);
  });
});
