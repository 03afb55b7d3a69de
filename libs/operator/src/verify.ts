import { AppError } from '@ceb179/errors';
import { buildSignString, parseCertificate, verifySignature } from '@ceb179/protocol';
import type { StoredDocument } from './ledger';

export interface VerifyReport {
  sessionID: string;
  /** The stored signature verifies over the stored sign string with the certificate's key. */
  signatureValid: boolean;
  /** The stored sign string is the one the stored head, lists and serviceTime make (what was uploaded). */
  signStringMatchesDocument: boolean;
  /** The certificate's serial is the certNo the ledger recorded. */
  certNoMatches: boolean;
  certificate: { certNo: string; algorithm: string; subject: string; notBefore: string; notAfter: string; source: string };
  ledgerCertNo: string;
}

/** certNos compare ignoring case and leading zeros (the control's Data[1] may differ in both). */
function sameCertNo(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/^0+/, '');
  return norm(a) === norm(b);
}

/**
 * Re-verifies what the ledger stored for one request: its signature over its sign string with the
 * card certificate (base64 DER or PEM; `source` says where it came from), and that the sign string
 * is the stored document's.
 */
export function verifyStoredDocument(doc: StoredDocument, certificateText: string, source: string): VerifyReport {
  if (!doc.signString || !doc.signValue || !doc.certNo) {
    throw new AppError('INVALID_INPUT', `${doc.sessionID} is ${doc.status}: the ledger holds no signature to verify`);
  }
  const certificate = parseCertificate(certificateText);
  let signStringMatchesDocument = false;
  if (doc.headJson && doc.listsJson && doc.serviceTime) {
    try {
      signStringMatchesDocument =
        buildSignString({ sessionID: doc.sessionID, headJson: doc.headJson, listsJson: doc.listsJson, serviceTime: doc.serviceTime }) ===
        doc.signString;
    } catch {
      signStringMatchesDocument = false;
    }
  }
  return {
    sessionID: doc.sessionID,
    signatureValid: verifySignature(certificate, doc.signString, doc.signValue),
    signStringMatchesDocument,
    certNoMatches: sameCertNo(certificate.certNo, doc.certNo),
    certificate: {
      certNo: certificate.certNo,
      algorithm: certificate.algorithm,
      subject: certificate.subject,
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
      source,
    },
    ledgerCertNo: doc.certNo,
  };
}
