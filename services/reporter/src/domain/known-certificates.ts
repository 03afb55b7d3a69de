import { createHash } from 'node:crypto';
import { parseCertificate, type CardCertificate } from '@ceb179/protocol';

export interface LearnResult {
  learned: boolean;
  /** Why a certificate was not taken, for the log; undefined when learned or already known. */
  refused?: string;
  certificate?: CardCertificate;
}

interface Entry {
  certificate: CardCertificate;
  fingerprint: string;
  /** ebpCodes the card signs for; empty = every ebpCode (a signer serving "all"). */
  ebpCodes: Set<string>;
  servesAll: boolean;
}

/** Far more cards than a platform has; bounds what forged heartbeats can make the reporter hold. */
const MAX_CERTIFICATES = 1_000;

/** SHA-256 of the certificate's DER, lowercase hex (`openssl x509 -noout -fingerprint -sha256`, without colons). */
export function certificateFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * The card certificates ceb179 knows, and for which ebpCodes: learned from the signers'
 * heartbeats (each signer sends its card's certificate, read at its self-test). The reporter
 * verifies every signature against them before storing it.
 *
 * When CEB179_REPORTER_CERTIFICATE_FINGERPRINTS is set, only those certificates are ever learned,
 * so even a stolen card-PC credential cannot introduce a certificate of its own. Without it, the
 * first certificate seen for a certNo is kept, and a different one claiming the same certNo is
 * refused (and reported): a forger can neither replace a card's certificate nor pose as it.
 */
export class KnownCertificates {
  private readonly byCertNo = new Map<string, Entry>();

  constructor(private readonly pinnedFingerprints: readonly string[] = []) {}

  learn(certificateBase64: string, ebpCodes: readonly string[]): LearnResult {
    let certificate: CardCertificate;
    try {
      certificate = parseCertificate(certificateBase64);
    } catch (error) {
      return { learned: false, refused: `certificate not parsable: ${(error as Error).message}` };
    }
    const fingerprint = certificateFingerprint(certificate.der);
    const pins = this.pinnedFingerprints.map((f) => f.toLowerCase().replace(/:/g, ''));
    if (pins.length > 0 && !pins.includes(fingerprint)) {
      return {
        learned: false,
        refused: `certificate ${certificate.certNo} (sha256 ${fingerprint}) is not in CEB179_REPORTER_CERTIFICATE_FINGERPRINTS`,
        certificate,
      };
    }
    const key = canonicalCertNo(certificate.certNo);
    const known = this.byCertNo.get(key);
    if (known && known.fingerprint !== fingerprint) {
      return {
        learned: false,
        refused: `another certificate already holds certNo ${certificate.certNo}: kept the first (sha256 ${known.fingerprint}), refused sha256 ${fingerprint}`,
        certificate,
      };
    }
    if (!known && this.byCertNo.size >= MAX_CERTIFICATES) {
      return {
        learned: false,
        refused: `already ${MAX_CERTIFICATES} card certificates known: certificate ${certificate.certNo} not learned`,
        certificate,
      };
    }
    const entry = known ?? { certificate, fingerprint, ebpCodes: new Set<string>(), servesAll: false };
    const isNew = !known || (ebpCodes.length === 0 && !entry.servesAll) || ebpCodes.some((code) => !entry.ebpCodes.has(code));
    if (ebpCodes.length === 0) entry.servesAll = true;
    for (const code of ebpCodes) entry.ebpCodes.add(code);
    this.byCertNo.set(key, entry);
    return { learned: isNew, certificate };
  }

  /** The certificate with this certNo, when a card serving `ebpCode` has presented it. */
  find(ebpCode: string, certNo: string): CardCertificate | undefined {
    const entry = this.byCertNo.get(canonicalCertNo(certNo));
    if (!entry) return undefined;
    return entry.servesAll || entry.ebpCodes.has(ebpCode) ? entry.certificate : undefined;
  }
}

/** certNo compared ignoring case and leading zeros, as the signer does. */
function canonicalCertNo(certNo: string): string {
  return certNo.toLowerCase().replace(/^0+(?=.)/, '');
}
