import { parseCertificate } from '@ceb179/protocol';
import { AppError } from '@ceb179/errors';
import type { RegisteredCertificate } from './types';

export type ParsedCertificate = ReturnType<typeof parseCertificate>;

export interface RegistryEntry {
  certNo: string;
  certificate: ParsedCertificate;
  /** null = any ebpCode. */
  ebpCodes: Set<string> | null;
}

/**
 * Customs' registration table: certNo (the serial in lowercase hex, as customs stores it) to
 * certificate and the ebpCodes it may upload for. Registering the same certificate again adds
 * ebpCodes, like a platform registering one operator card for a further ebpCode.
 */
export class CertificateRegistry {
  private readonly entries = new Map<string, RegistryEntry>();

  register(registration: RegisteredCertificate): RegistryEntry {
    if (typeof registration?.certificateBase64 !== 'string' || registration.certificateBase64.trim() === '') {
      throw new AppError('INVALID_INPUT', 'certificateBase64 must be a base64 or PEM certificate');
    }
    const codes = registration.ebpCodes;
    if (codes !== undefined && (!Array.isArray(codes) || codes.some((c) => typeof c !== 'string' || c === ''))) {
      throw new AppError('INVALID_INPUT', 'ebpCodes must be an array of non-empty strings');
    }
    let certificate: ParsedCertificate;
    try {
      certificate = parseCertificate(registration.certificateBase64.trim());
    } catch (error) {
      throw new AppError('INVALID_INPUT', `not a usable certificate: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    const previous = this.entries.get(certificate.certNo);
    const entry: RegistryEntry = {
      certNo: certificate.certNo,
      certificate,
      ebpCodes: mergeCodes(previous?.ebpCodes, codes, previous === undefined),
    };
    this.entries.set(entry.certNo, entry);
    return entry;
  }

  /** Exact match: an uppercase certNo is not what customs registered. */
  lookup(certNo: string): RegistryEntry | undefined {
    return this.entries.get(certNo);
  }

  list(): RegistryEntry[] {
    return [...this.entries.values()];
  }
}

function mergeCodes(previous: Set<string> | null | undefined, added: string[] | undefined, isNew: boolean): Set<string> | null {
  if (added === undefined) return null;
  if (isNew) return new Set(added);
  if (previous === null || previous === undefined) return null;
  return new Set([...previous, ...added]);
}

export function allowsEbpCode(entry: RegistryEntry, ebpCode: string): boolean {
  return entry.ebpCodes === null || entry.ebpCodes.has(ebpCode);
}
