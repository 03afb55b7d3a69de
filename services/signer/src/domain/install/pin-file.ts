/**
 * How the PIN file must look: the signer reads it as UTF-8 and drops one final line break, so every
 * other byte is part of the PIN. The installer writes exactly the PIN's UTF-8 bytes.
 */
export const PIN_FILE_RULES = [
  'UTF-8 without a byte-order mark (BOM): a BOM would be sent to the card as part of the PIN',
  'no trailing newline: the installer writes exactly the PIN (the signer tolerates one final line break, nothing more)',
  'one line, no leading or trailing spaces, no tabs or other control characters',
  'readable by SYSTEM, Administrators and the service account only; never copied into the service definition, a log or a message',
] as const;

/**
 * What is wrong with a PIN file's bytes, in words that never include any of them; undefined when
 * the signer would read a well-formed PIN.
 */
export function pinFileProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'the file is empty';
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return 'it starts with a UTF-8 byte-order mark (BOM), which would be sent to the card as part of the PIN';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    return 'it is saved as UTF-16 ("Unicode"); it must be UTF-8 without BOM';
  let end = bytes.length;
  if (bytes[end - 1] === 0x0a) {
    end -= 1;
    if (bytes[end - 1] === 0x0d) end -= 1;
  }
  if (end === 0) return 'it holds only a line break';
  for (let i = 0; i < end; i += 1) {
    const byte = bytes[i]!;
    if (byte === 0x0a || byte === 0x0d) return 'it holds more than one line';
    if (byte < 0x20 || byte === 0x7f) return 'it holds a control character (a tab or similar)';
  }
  if (bytes[0] === 0x20 || bytes[end - 1] === 0x20) return 'it starts or ends with a space';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
  } catch {
    return 'it is not valid UTF-8 (saved as ANSI/GBK?)';
  }
  return undefined;
}
