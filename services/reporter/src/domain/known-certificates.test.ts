import { SoftCard } from '@ceb179/eport-sim';
import { parseCertificate } from '@ceb179/protocol';
import { certificateFingerprint, KnownCertificates } from './known-certificates';

describe('the card certificates the reporter knows', () => {
  const card = SoftCard.create({ algorithm: 'RSA', pin: '1' });
  const other = SoftCard.create({ algorithm: 'SM2', pin: '1' });

  it('learns a certificate for the ebpCodes its signer serves, and only for those', () => {
    const known = new KnownCertificates();
    expect(known.learn(card.certificateBase64, ['EBPA'])).toMatchObject({ learned: true });
    const again = known.learn(card.certificateBase64, ['EBPA']); // heard again: nothing new, nothing refused
    expect(again.learned).toBe(false);
    expect(again.refused).toBeUndefined();
    expect(known.find('EBPA', card.certNo)?.certNo).toBe(card.certNo);
    expect(known.find('EBPA', card.certNo.toUpperCase())?.certNo).toBe(card.certNo);
    expect(known.find('EBPB', card.certNo)).toBeUndefined();
    expect(known.find('EBPA', other.certNo)).toBeUndefined();
    known.learn(other.certificateBase64, []); // a signer serving every ebpCode
    expect(known.find('ANY', other.certNo)?.certNo).toBe(other.certNo);
  });

  it('keeps the first certificate of a certNo: another one claiming it is refused', () => {
    const known = new KnownCertificates();
    known.learn(card.certificateBase64, ['EBPA']);
    // A forger's certificate with the real card's serial number.
    const forger = SoftCard.create({ algorithm: 'RSA', pin: '1', serialHex: card.certNo });
    expect(forger.certNo).toBe(card.certNo);
    expect(known.learn(forger.certificateBase64, ['EBPA']).refused).toMatch(/another certificate already holds certNo/);
    expect(known.find('EBPA', card.certNo)?.der.equals(parseCertificate(card.certificateBase64).der)).toBe(true);
  });

  it('with pinned fingerprints, learns only those certificates', () => {
    const pinned = certificateFingerprint(parseCertificate(card.certificateBase64).der);
    const known = new KnownCertificates([pinned.toUpperCase().match(/../g)?.join(':') as string]);
    expect(known.learn(card.certificateBase64, ['EBPA'])).toMatchObject({ learned: true });
    expect(known.learn(other.certificateBase64, ['EBPA']).refused).toMatch(/is not in CEB179_REPORTER_CERTIFICATE_FINGERPRINTS/);
    expect(known.find('EBPA', other.certNo)).toBeUndefined();
  });

  it('refuses what is not a certificate', () => {
    expect(new KnownCertificates().learn('not a certificate', []).refused).toMatch(/certificate not parsable|neither PEM nor base64/);
  });
});
