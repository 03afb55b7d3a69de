import iconv from 'iconv-lite';

/**
 * How a real control may differ from the tidy one: each of these has been seen or is plausible
 * (docs/protocol.md §4 marks greeting, ping behaviour and formats M or L). The defaults are the
 * tidy control; `HARSH_QUIRKS` turns on every difference that a correct client must survive.
 */
export type Base64Format = 'canonical' | 'crlf-lines' | 'pem' | 'whitespace';
export type CertNoFormat = 'lower' | 'upper' | 'leading-zeros' | 'empty';
export type SignEncoding = 'utf8' | 'gbk';

export interface ControlQuirks {
  /** How the signature (sign reply Data[0]) is written. */
  signatureFormat: Base64Format;
  /** How the certificate (cus-sec_SpcGetSignCertAsPEM Data[0]) is written. */
  certificateFormat: Base64Format;
  /** How certNo is written by cus-sec_SpcGetCertNo and in the sign reply's Data[1]. */
  certNoFormat: CertNoFormat;
  /** Milliseconds before the greeting; -1 = never greet. */
  greetingDelayMs: number;
  /** Whether WebSocket pings are answered (the ws library answers by default; some controls do not). */
  answerPings: boolean;
  /** The bytes the card signs: the UTF-8 of inData, or its GBK encoding (a misbehaving control). */
  signEncoding: SignEncoding;
}

export const TIDY_QUIRKS: ControlQuirks = {
  signatureFormat: 'canonical',
  certificateFormat: 'canonical',
  certNoFormat: 'lower',
  greetingDelayMs: 0,
  answerPings: true,
  signEncoding: 'utf8',
};

/** Everything a correct client must tolerate at once (not the GBK fault, which it must refuse). */
export const HARSH_QUIRKS: ControlQuirks = {
  signatureFormat: 'crlf-lines',
  certificateFormat: 'pem',
  certNoFormat: 'upper',
  greetingDelayMs: -1,
  answerPings: false,
  signEncoding: 'utf8',
};

export function formatBase64(base64: string, format: Base64Format, label = 'SIGNATURE'): string {
  switch (format) {
    case 'canonical':
      return base64;
    case 'crlf-lines':
      return base64.replace(/(.{64})(?=.)/g, '$1\r\n');
    case 'pem':
      return `-----BEGIN ${label}-----\r\n${base64.replace(/(.{64})(?=.)/g, '$1\r\n')}\r\n-----END ${label}-----\r\n`;
    case 'whitespace':
      return ` ${base64.replace(/(.{19})(?=.)/g, '$1 \t').replace(/(.{76})(?=.)/g, '$1\n')}\n`;
  }
}

export function formatCertNo(certNo: string, format: CertNoFormat): string {
  switch (format) {
    case 'lower':
      return certNo.toLowerCase();
    case 'upper':
      return certNo.toUpperCase();
    case 'leading-zeros':
      return `00${certNo}`;
    case 'empty':
      return '';
  }
}

export function encodeForSigning(text: string, encoding: SignEncoding): Buffer {
  return encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8');
}
