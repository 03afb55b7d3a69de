import * as der from './der';

const hex = (b: Buffer) => b.toString('hex');

describe('der', () => {
  it('encodes OIDs in base 128 with the first two arcs combined', () => {
    expect(hex(der.objectIdentifier('1.2.840.113549.1.1.5'))).toBe('06092a864886f70d010105');
    expect(hex(der.objectIdentifier('1.2.156.10197.1.501'))).toBe('06082a811ccf55018375');
  });

  it('uses the long length form from 128 bytes on', () => {
    expect(hex(der.octetString(Buffer.alloc(127))).slice(0, 4)).toBe('047f');
    expect(hex(der.octetString(Buffer.alloc(128))).slice(0, 6)).toBe('048180');
    expect(hex(der.octetString(Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
  });

  it('keeps INTEGERs minimal and positive', () => {
    expect(hex(der.unsignedInteger(Buffer.from('7f', 'hex')))).toBe('02017f');
    expect(hex(der.unsignedInteger(Buffer.from('80', 'hex')))).toBe('02020080');
    expect(hex(der.unsignedInteger(Buffer.from('000001', 'hex')))).toBe('020101');
    expect(hex(der.smallInteger(0))).toBe('020100');
    expect(hex(der.smallInteger(2))).toBe('020102');
  });

  it('switches from UTCTime to GeneralizedTime in 2050', () => {
    expect(der.time(new Date('2049-12-31T23:59:59.900Z')).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(der.time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });

  it('encodes keyUsage bits with the unused-bit count', () => {
    // digitalSignature (0) + nonRepudiation (1): 0b11000000, 6 unused bits.
    expect(hex(der.namedBits([0, 1]))).toBe('030206c0');
  });
});
