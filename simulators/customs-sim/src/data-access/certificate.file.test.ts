import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCertificateFile } from './certificate.file';

describe('readCertificateFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'customs-sim-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes certificateBase64 from a card file and ignores the rest', async () => {
    const path = join(dir, 'card.json');
    writeFileSync(path, JSON.stringify({ certificateBase64: 'MIIB', privateKey: 'secret', pin: '1' }));
    await expect(readCertificateFile(path)).resolves.toBe('MIIB');
  });

  it('takes base64 or PEM text as it is', async () => {
    const path = join(dir, 'cert.pem');
    writeFileSync(path, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await expect(readCertificateFile(path)).resolves.toBe('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');
  });

  it('says null while the file does not exist, and refuses JSON without a certificate', async () => {
    await expect(readCertificateFile(join(dir, 'later.json'))).resolves.toBeNull();
    const path = join(dir, 'other.json');
    writeFileSync(path, '{"x":1}');
    await expect(readCertificateFile(path)).rejects.toThrow(/certificateBase64/);
  });
});
