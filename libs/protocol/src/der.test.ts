import { DerError, DerTag, decodeOid, decodeTime, encodeDer, readDer, readDerDocument } from './der';

describe('der', () => {
  it.each([
    ['2a864886f70d010101', '1.2.840.113549.1.1.1'],
    ['2a8648ce3d0201', '1.2.840.10045.2.1'],
    ['2a811ccf5501822d', '1.2.156.10197.1.301'],
    ['550403', '2.5.4.3'],
    ['8837', '2.999'],
  ])('decodes OID %s as %s', (hex, dotted) => {
    expect(decodeOid(Buffer.from(hex, 'hex'))).toBe(dotted);
  });

  it('refuses truncated OIDs', () => {
    expect(() => decodeOid(Buffer.from('2a86', 'hex'))).toThrow(DerError);
    expect(() => decodeOid(Buffer.alloc(0))).toThrow(DerError);
  });

  it('reads short and long lengths and round-trips encodeDer', () => {
    for (const size of [0, 1, 127, 128, 255, 256, 70000]) {
      const der = encodeDer(DerTag.octetString, Buffer.alloc(size, 7));
      const node = readDerDocument(der);
      expect(node.end - node.contentStart).toBe(size);
      expect(node.end).toBe(der.length);
    }
  });

  it.each([
    ['indefinite length', '3080'],
    ['overrun', '300501'],
    ['truncated header', '30'],
    ['high tag number', '1f0100'],
    ['length of length too long', '3085ffffffffff'],
  ])('refuses %s', (_what, hex) => {
    expect(() => readDer(Buffer.from(hex, 'hex'), 0)).toThrow(DerError);
  });

  it('maps two-digit UTCTime years around 1950/2049 as RFC 5280 says', () => {
    const utc = (text: string): Date => {
      const der = encodeDer(DerTag.utcTime, Buffer.from(text));
      return decodeTime(der, readDerDocument(der));
    };
    expect(utc('491231235959Z').toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(utc('500101000000Z').toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(() => utc('5001010000Z+0800')).toThrow(DerError);
  });
});
