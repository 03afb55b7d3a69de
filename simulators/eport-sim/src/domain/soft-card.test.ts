import { X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { parseCertificate, verifySignature } from '@ceb179/protocol';
import { SoftCard } from './soft-card';

const SIGN_STRING =
  '"sessionID":"s-1"||"payExchangeInfoHead":"{"guid":"A","note":"中文 / & < >"}"||"payExchangeInfoLists":"[]"||"serviceTime":"1700000000123"';

describe('SoftCard (RSA)', () => {
  const card = SoftCard.create({ algorithm: 'RSA', pin: '1234', serialHex: '01691F7F', cardId: 'card-1' });

  it('mints an X.509 certificate Node can read, with the serial as certNo', () => {
    const certificate = new X509Certificate(Buffer.from(card.certificateBase64, 'base64'));
    expect(certificate.serialNumber.toLowerCase()).toBe('01691f7f');
    expect(card.certNo).toBe('01691f7f');
    expect(certificate.verify(certificate.publicKey)).toBe(true); // self-signed
    expect(card.certificateBase64).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('is read by the protocol library as RSA-SHA1 with the same certNo', () => {
    const parsed = parseCertificate(card.certificateBase64);
    expect(parsed.certNo).toBe('01691f7f');
    expect(parsed.algorithm).toBe('RSA-SHA1');
    expect(parsed.notBefore.getTime()).toBeLessThan(Date.now());
    expect(parsed.notAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it('signs SHA1withRSA, 172 base64 characters, verifiable with the certificate', () => {
    const signature = card.sign(SIGN_STRING);
    expect(signature).toHaveLength(172);
    expect(verifySignature(parseCertificate(card.certificateBase64), SIGN_STRING, signature)).toBe(true);
    expect(verifySignature(parseCertificate(card.certificateBase64), `${SIGN_STRING} `, signature)).toBe(false);
  });

  it('draws random 8-digit serials whose first byte is 01..7f', () => {
    for (let i = 0; i < 5; i += 1) {
      const other = SoftCard.create({ algorithm: 'RSA', pin: '1' });
      expect(other.certNo).toMatch(/^[0-7][0-9a-f]{7}$/);
      expect(other.certNo.startsWith('00')).toBe(false);
      expect(parseCertificate(other.certificateBase64).certNo).toBe(other.certNo);
    }
  });
});

describe('SoftCard (SM2)', () => {
  const card = SoftCard.create({ algorithm: 'SM2', pin: '1234' });

  it('mints a certificate the protocol library reads as SM2-SM3 with a 16-digit certNo', () => {
    expect(card.certNo).toMatch(/^[0-7][0-9a-f]{15}$/);
    const parsed = parseCertificate(card.certificateBase64);
    expect(parsed.certNo).toBe(card.certNo);
    expect(parsed.algorithm).toBe('SM2-SM3');
  });

  it('signs SM3withSM2 as raw r||s, 88 base64 characters, verifiable with the certificate', () => {
    for (let i = 0; i < 5; i += 1) {
      const signature = card.sign(SIGN_STRING);
      expect(signature).toHaveLength(88);
      expect(Buffer.from(signature, 'base64')).toHaveLength(64);
      expect(verifySignature(parseCertificate(card.certificateBase64), SIGN_STRING, signature)).toBe(true);
    }
    expect(verifySignature(parseCertificate(card.certificateBase64), 'other', card.sign(SIGN_STRING))).toBe(false);
  });

  it('keeps a serial with the top bit set as certNo (the DER sign byte is not part of it)', () => {
    const high = SoftCard.create({ algorithm: 'SM2', pin: '1', serialHex: '8000000000000001' });
    expect(high.certNo).toBe('8000000000000001');
    expect(parseCertificate(high.certificateBase64).certNo).toBe('8000000000000001');
  });
});

describe('SoftCard persistence and guards', () => {
  it.each(['RSA', 'SM2'] as const)('survives toJSON/fromJSON (%s) and still signs verifiably', (algorithm) => {
    const card = SoftCard.create({ algorithm, pin: '4321', subjectCN: '测试操作员' });
    const copy = SoftCard.fromJSON(JSON.parse(JSON.stringify(card.toJSON())));
    expect(copy.certNo).toBe(card.certNo);
    expect(copy.cardId).toBe(card.cardId);
    expect(copy.certificateBase64).toBe(card.certificateBase64);
    expect(copy.pinMatches('4321')).toBe(true);
    expect(verifySignature(parseCertificate(card.certificateBase64), 'x', copy.sign('x'))).toBe(true);
    expect(parseCertificate(card.certificateBase64).subject).toContain('测试操作员');
  });

  it('honours the validity dates it is given', () => {
    const notBefore = new Date('2024-01-01T00:00:00Z');
    const notAfter = new Date('2026-01-01T00:00:00Z');
    const parsed = parseCertificate(SoftCard.create({ algorithm: 'SM2', pin: '1', notBefore, notAfter }).certificateBase64);
    expect(parsed.notBefore.toISOString()).toBe(notBefore.toISOString());
    expect(parsed.notAfter.toISOString()).toBe(notAfter.toISOString());
  });

  it('refuses serials that could not round-trip, and bad card files', () => {
    expect(() => SoftCard.create({ algorithm: 'RSA', pin: '1', serialHex: '00ab' })).toThrow(/00/);
    expect(() => SoftCard.create({ algorithm: 'RSA', pin: '1', serialHex: 'abc' })).toThrow(/hex/);
    expect(() => SoftCard.create({ algorithm: 'RSA', pin: '' })).toThrow(/pin/);
    expect(() => SoftCard.fromJSON({ format: 'x' } as never)).toThrow(/soft card/);
  });

  it('never shows the PIN or the key when printed', () => {
    const card = SoftCard.create({ algorithm: 'RSA', pin: '99887766' });
    const shown = `${String(card)} ${inspect(card)}`;
    expect(shown).not.toContain('99887766');
    expect(shown).not.toContain('PRIVATE KEY');
  });
});
