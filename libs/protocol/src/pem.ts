/** PEM armour: base64 DER between BEGIN/END lines, wrapped at 64 columns (RFC 7468). */

const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

export function toPem(label: string, der: Buffer): string {
  const body = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** Returns the DER of the first block with one of `labels`, or null when there is none or it is not base64. */
export function fromPem(text: string, labels: readonly string[]): { label: string; der: Buffer } | null {
  const block = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = block.exec(text); m; m = block.exec(text)) {
    const label = m[1] ?? '';
    if (!labels.includes(label)) continue;
    const der = decodeBase64(m[2] ?? '');
    return der ? { label, der } : null;
  }
  return null;
}

/**
 * Strict base64 (whitespace allowed, as card software breaks lines): Buffer.from(…, 'base64') silently
 * skips bad characters, which would turn garbage into a plausible-looking value.
 */
export function decodeBase64(text: string): Buffer | null {
  const compact = text.replace(/[\s]+/g, '');
  if (compact === '' || compact.length % 4 !== 0 || !BASE64_BODY.test(compact)) return null;
  return Buffer.from(compact, 'base64');
}

/**
 * The one spelling customs accepts for a base64 value (signValue): no whitespace, no line breaks,
 * no PEM armour, standard alphabet, `=` padding. Controls differ: a `…AsPEM` method may return the
 * signature or certificate broken into 64-character CRLF lines or wrapped in BEGIN/END lines
 * (docs/protocol.md §4, M). Returns null when what is left is not strict base64.
 */
export function canonicalBase64(text: string): string | null {
  if (typeof text !== 'string') return null;
  const unarmoured = text.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '');
  const bytes = decodeBase64(unarmoured);
  return bytes ? bytes.toString('base64') : null;
}

/** Whether `text` is already canonical base64 (what a strict customs checks). */
export function isCanonicalBase64(text: string): boolean {
  return typeof text === 'string' && text !== '' && canonicalBase64(text) === text;
}
