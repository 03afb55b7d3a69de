import { canonicalBase64, isCanonicalBase64 } from '@ceb179/protocol';

/** How a base64 value from the control is written: what first contact with a real control reports. */
export function describeBase64Form(text: string): string {
  if (isCanonicalBase64(text)) return 'canonical base64';
  if (canonicalBase64(text) === null) return 'NOT base64';
  if (/-----BEGIN /.test(text)) return 'PEM with header lines (normalised by ceb179)';
  if (/\r\n/.test(text)) return 'base64 in CRLF lines (normalised by ceb179)';
  if (/\n/.test(text)) return 'base64 in LF lines (normalised by ceb179)';
  return 'base64 with blanks (normalised by ceb179)';
}

/** How the control writes certNo compared with the certificate's serial (customs registers lowercase hex). */
export function describeCertNoForm(reported: string, serial: string): string {
  if (reported === '') return 'empty (ceb179 uses the certificate serial)';
  if (reported === serial) return 'lowercase hex, as customs registers it';
  const canonical = (hex: string) => hex.toLowerCase().replace(/^0+(?=.)/, '');
  if (canonical(reported) !== canonical(serial)) return `DIFFERENT from the certificate serial ${serial}`;
  const notes = [reported !== reported.toLowerCase() ? 'upper case' : '', /^0/.test(reported) ? 'leading zeros' : ''].filter(Boolean);
  return `${notes.join(' and ')} (ceb179 uploads ${serial})`;
}
