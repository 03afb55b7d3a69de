import { randomBytes } from 'node:crypto';
import { describeBase64Form, describeCertNoForm } from './control-variations';

describe('control variations, as first contact reports them', () => {
  const base64 = randomBytes(128).toString('base64');

  it.each([
    [base64, 'canonical base64'],
    [base64.replace(/(.{64})(?=.)/g, '$1\r\n'), 'base64 in CRLF lines (normalised by ceb179)'],
    [base64.replace(/(.{64})(?=.)/g, '$1\n'), 'base64 in LF lines (normalised by ceb179)'],
    [`-----BEGIN SIGNATURE-----\n${base64}\n-----END SIGNATURE-----`, 'PEM with header lines (normalised by ceb179)'],
    [` ${base64} `, 'base64 with blanks (normalised by ceb179)'],
    ['%%%%', 'NOT base64'],
  ])('names the form of a base64 value (%#)', (text, form) => {
    expect(describeBase64Form(text)).toBe(form);
  });

  it.each([
    ['', 'empty (ceb179 uses the certificate serial)'],
    ['1a2b3c4d', 'lowercase hex, as customs registers it'],
    ['1A2B3C4D', 'upper case (ceb179 uploads 1a2b3c4d)'],
    ['001A2B3C4D', 'upper case and leading zeros (ceb179 uploads 1a2b3c4d)'],
    ['ffff0000', 'DIFFERENT from the certificate serial 1a2b3c4d'],
  ])('names the form of certNo %j', (reported, form) => {
    expect(describeCertNoForm(reported, '1a2b3c4d')).toBe(form);
  });
});
