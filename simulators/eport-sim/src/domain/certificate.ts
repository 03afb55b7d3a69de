import { createPublicKey, sign as rsaSign, type KeyObject } from 'node:crypto';
import { sm2 } from 'sm-crypto';
import * as der from './der';

/**
 * Self-signed X.509 v3 certificates for the software cards. Real operator cards carry
 * certificates issued by the China E-Port CA; what matters to ceb179 is only that the
 * certificate parses, its serial is the certNo and its public key verifies the card's
 * signatures, so self-signed is enough.
 */

const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  ecPublicKey: '1.2.840.10045.2.1',
  sm2p256v1: '1.2.156.10197.1.301',
  sm2WithSm3: '1.2.156.10197.1.501',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
} as const;

export interface CertificateSubject {
  commonName: string;
  organization: string;
  organizationalUnit: string;
}

interface CommonFields {
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  subject: CertificateSubject;
}

export interface RsaCertificateRequest extends CommonFields {
  privateKey: KeyObject;
}

export interface Sm2CertificateRequest extends CommonFields {
  /** 64 hex digits. */
  privateKeyHex: string;
  /** Uncompressed point, `04` + x + y, 130 hex digits. */
  publicKeyHex: string;
}

function name(subject: CertificateSubject): Buffer {
  const rdn = (oid: string, value: Buffer) => der.set(der.sequence(der.objectIdentifier(oid), value));
  return der.sequence(
    rdn(OID.countryName, der.printableString('CN')),
    rdn(OID.organizationName, der.utf8String(subject.organization)),
    rdn(OID.organizationalUnitName, der.utf8String(subject.organizationalUnit)),
    rdn(OID.commonName, der.utf8String(subject.commonName)),
  );
}

/** An end-entity signing certificate: not a CA, usable for digitalSignature and nonRepudiation. */
function extensions(): Buffer {
  const extension = (oid: string, critical: boolean, value: Buffer) =>
    der.sequence(der.objectIdentifier(oid), der.boolean(critical), der.octetString(value));
  return der.explicit(
    3,
    der.sequence(extension(OID.basicConstraints, true, der.sequence()), extension(OID.keyUsage, true, der.namedBits([0, 1]))),
  );
}

function tbsCertificate(fields: CommonFields, signatureAlgorithm: Buffer, subjectPublicKeyInfo: Buffer): Buffer {
  const subjectName = name(fields.subject);
  return der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(fields.serial),
    signatureAlgorithm,
    subjectName, // issuer: self-signed
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    subjectName,
    subjectPublicKeyInfo,
    extensions(),
  );
}

export function mintRsaCertificate(request: RsaCertificateRequest): Buffer {
  // SHA1withRSA, like the certificates on the RSA-1024 operator cards issued before 2022.
  const algorithm = der.sequence(der.objectIdentifier(OID.sha1WithRsa), der.nullValue());
  const spki = createPublicKey(request.privateKey).export({ type: 'spki', format: 'der' });
  const tbs = tbsCertificate(request, algorithm, spki);
  const signature = rsaSign('sha1', tbs, request.privateKey);
  return der.sequence(tbs, algorithm, der.bitString(signature));
}

export function mintSm2Certificate(request: Sm2CertificateRequest): Buffer {
  const algorithm = der.sequence(der.objectIdentifier(OID.sm2WithSm3));
  const spki = der.sequence(
    der.sequence(der.objectIdentifier(OID.ecPublicKey), der.objectIdentifier(OID.sm2p256v1)),
    der.bitString(Buffer.from(request.publicKeyHex, 'hex')),
  );
  const tbs = tbsCertificate(request, algorithm, spki);
  // GM/T 0015: the certificate signature is SM3withSM2 over the TBS bytes with the default
  // user id, DER-encoded (unlike the raw r||s the card returns for data signatures).
  const signatureHex = sm2.doSignature(Array.from(tbs), request.privateKeyHex, {
    der: true,
    hash: true,
    publicKey: request.publicKeyHex,
  });
  return der.sequence(tbs, algorithm, der.bitString(Buffer.from(signatureHex, 'hex')));
}
