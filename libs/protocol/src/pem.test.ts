import { randomBytes } from 'node:crypto';
import { canonicalBase64, isCanonicalBase64 } from './pem';

describe('canonicalBase64', () => {
  const bytes = randomBytes(128);
  const canonical = bytes.toString('base64');
  const lines = (text: string, eol: string) => text.replace(/(.{64})/g, `$1${eol}`);

  it('keeps canonical base64 as it is', () => {
    expect(canonicalBase64(canonical)).toBe(canonical);
    expect(isCanonicalBase64(canonical)).toBe(true);
  });

  it.each([
    ['64-character CRLF lines', lines(canonical, '\r\n')],
    ['64-character LF lines with a trailing newline', `${lines(canonical, '\n')}\n`],
    ['spaces and tabs', canonical.replace(/(.{10})/g, '$1 \t')],
    ['PEM armour', `-----BEGIN SIGNATURE-----\r\n${lines(canonical, '\r\n')}\r\n-----END SIGNATURE-----\r\n`],
    ['PEM certificate armour', `-----BEGIN CERTIFICATE-----\n${lines(canonical, '\n')}\n-----END CERTIFICATE-----`],
  ])('turns %s into the canonical text', (_name, text) => {
    expect(isCanonicalBase64(text)).toBe(false);
    expect(canonicalBase64(text)).toBe(canonical);
  });

  it.each([
    ['characters outside base64', `${canonical.slice(0, 20)}*${canonical.slice(21)}`],
    ['a length that is not a multiple of 4', canonical.slice(0, -1)],
    ['nothing', ''],
    ['only armour', '-----BEGIN SIGNATURE-----\n-----END SIGNATURE-----'],
  ])('refuses %s', (_name, text) => {
    expect(canonicalBase64(text)).toBeNull();
    expect(isCanonicalBase64(text)).toBe(false);
  });
});
