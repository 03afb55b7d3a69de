/** What each customs reply code means for us (docs/protocol.md §2). */
export type CodeVerdict = 'accepted' | 'duplicate' | 'config_fault' | 'rejected';

export function interpretCustomsCode(code: string): CodeVerdict {
  if (code === '10000') return 'accepted';
  // 20006: the sessionID is already stored at customs — if an earlier attempt can have landed
  // (UploadRequest checks that; customs also uses 20006 for failures such as a storage error).
  if (code === '20006') return 'duplicate';
  // 20004: certificate not registered (for this ebpCode): retrying cannot help; a person must act.
  if (code === '20004') return 'config_fault';
  return 'rejected';
}

export const CONFIG_FAULT_HINT =
  'customs 20004: the certificate is not registered, or not for this ebpCode. Check: certNo registered in lowercase hex; ' +
  'the card in the reader is the operator card (not the legal-person card); the ebpCode in the document is the one the ' +
  'certificate was registered for; the upload URL is the environment (test/production) the registration was made in.';

/** customs' message says the record is already there ("已存在", "重复", "already exists", "duplicate"). */
export function saysAlreadyStored(message: string): boolean {
  return /已存在|已经存在|重复|already exist|duplicate/i.test(message);
}
