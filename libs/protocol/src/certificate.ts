import { X509Certificate } from 'node:crypto';
import { AppError } from '@ceb179/errors';
import { DerError, DerTag, decodeOid, decodeTime, derChildren, derContent, expectTag, readDerDocument, type DerNode } from './der';
import { decodeBase64, fromPem, toPem } from './pem';
import { readSubjectPublicKey, type SignAlgorithm } from './public-key';

export interface CardCertificate {
  /** Lowercase hex of the X.509 serial, as customs registers it (e.g. '01691f7f'). */
  certNo: string;
  algorithm: SignAlgorithm;
  notBefore: Date;
  notAfter: Date;
  subject: string;
  publicKeyPem: string;
  der: Buffer;
}

/** Accepts the control's bare base64 DER, a PEM text, or DER / PEM bytes. */
function certificateDer(certificate: string | Buffer): Buffer {
  if (Buffer.isBuffer(certificate)) {
    if (certificate[0] === DerTag.sequence) return certificate;
    return certificateDer(certificate.toString('utf8'));
  }
  if (typeof certificate !== 'string') throw new AppError('PROTOCOL', 'certificate is neither text nor bytes');
  if (certificate.includes('-----BEGIN')) {
    const block = fromPem(certificate, ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
    if (!block) throw new AppError('PROTOCOL', 'certificate PEM has no readable CERTIFICATE block');
    return block.der;
  }
  const der = decodeBase64(certificate);
  if (!der) throw new AppError('PROTOCOL', 'certificate is neither PEM nor base64 DER');
  return der;
}

/**
 * The serial's content bytes in hex. A DER INTEGER gains one 0x00 byte when its top bit is set (the
 * sign); that byte is not part of the serial number. Other leading zero bytes are kept as encoded
 * (e.g. 0x01 in '01691f7f'), matching what the control reports and customs registers.
 */
export function certNoFromSerialBytes(serial: Buffer): string {
  const bytes = serial.length > 1 && serial[0] === 0 && ((serial[1] as number) & 0x80) !== 0 ? serial.subarray(1) : serial;
  return bytes.toString('hex');
}

const NAME_LABELS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function decodeNameValue(buf: Buffer, node: DerNode): string {
  const content = derContent(buf, node);
  if (node.tag === DerTag.bmpString) {
    if (content.length % 2 !== 0) throw new DerError('BMPString of odd length');
    return Buffer.from(content).swap16().toString('utf16le');
  }
  if (node.tag === DerTag.t61String) return content.toString('latin1');
  return content.toString('utf8');
}

/** Same layout as X509Certificate#subject ('K=V' lines), used only when Node cannot read the certificate. */
function renderName(buf: Buffer, name: DerNode): string {
  const lines: string[] = [];
  for (const rdn of derChildren(buf, expectTag(name, DerTag.sequence, 'Name'))) {
    for (const attribute of derChildren(buf, expectTag(rdn, DerTag.set, 'RDN'))) {
      const [type, value] = derChildren(buf, expectTag(attribute, DerTag.sequence, 'AttributeTypeAndValue'));
      const oid = decodeOid(derContent(buf, expectTag(type, DerTag.oid, 'attribute type')));
      if (!value) throw new DerError('attribute value is missing');
      lines.push(`${NAME_LABELS[oid] ?? oid}=${decodeNameValue(buf, value)}`);
    }
  }
  return lines.join('\n');
}

function tbsFields(der: Buffer): DerNode[] {
  const root = readDerDocument(der);
  const [tbs] = derChildren(der, expectTag(root, DerTag.sequence, 'Certificate'));
  return derChildren(der, expectTag(tbs, DerTag.sequence, 'TBSCertificate'));
}

/** The subject rendered from the DER alone, in X509Certificate#subject's layout; the fallback of parseCertificate. */
export function certificateSubjectFromDer(der: Buffer): string {
  try {
    const fields = tbsFields(der);
    const at = fields[0]?.tag === 0xa0 ? 1 : 0;
    return renderName(der, expectTag(fields[at + 4], DerTag.sequence, 'subject'));
  } catch (cause) {
    if (cause instanceof DerError) throw new AppError('PROTOCOL', `certificate is not parsable: ${cause.message}`, { cause });
    throw cause;
  }
}

/**
 * Reads the card's signing certificate. The serial, validity and key are read from the DER directly
 * (Node reformats the serial and cannot describe SM2 keys); the subject comes from X509Certificate
 * where Node can read the certificate.
 */
export function parseCertificate(certificate: string | Buffer): CardCertificate {
  const der = certificateDer(certificate);
  try {
    const fields = tbsFields(der);
    // The version is an explicit [0] tag, absent for v1 certificates.
    const at = fields[0]?.tag === 0xa0 ? 1 : 0;
    const serial = expectTag(fields[at], DerTag.integer, 'serialNumber');
    const validity = derChildren(der, expectTag(fields[at + 3], DerTag.sequence, 'Validity'));
    const subjectName = expectTag(fields[at + 4], DerTag.sequence, 'subject');
    const key = readSubjectPublicKey(der, expectTag(fields[at + 5], DerTag.sequence, 'SubjectPublicKeyInfo'));
    const [notBeforeNode, notAfterNode] = validity;
    if (!notBeforeNode || !notAfterNode) throw new DerError('Validity needs notBefore and notAfter');
    if (serial.end === serial.contentStart) throw new DerError('serialNumber is empty');

    let subject: string;
    try {
      subject = new X509Certificate(der).subject;
    } catch {
      subject = renderName(der, subjectName);
    }
    return {
      certNo: certNoFromSerialBytes(derContent(der, serial)),
      algorithm: key.algorithm,
      notBefore: decodeTime(der, notBeforeNode),
      notAfter: decodeTime(der, notAfterNode),
      subject,
      publicKeyPem: toPem('PUBLIC KEY', key.spkiDer),
      der: Buffer.from(der),
    };
  } catch (cause) {
    if (cause instanceof DerError) throw new AppError('PROTOCOL', `certificate is not parsable: ${cause.message}`, { cause });
    throw cause;
  }
}
