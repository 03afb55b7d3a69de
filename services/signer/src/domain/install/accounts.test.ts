import { resolveServiceAccount, virtualAccountSid } from './accounts';

describe('service accounts', () => {
  it('computes the SID of a virtual account as Windows does', () => {
    // Windows' own TrustedInstaller service: NT SERVICE\TrustedInstaller has this SID on every PC.
    expect(virtualAccountSid('TrustedInstaller')).toBe('S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464');
    expect(virtualAccountSid('trustedinstaller')).toBe(virtualAccountSid('TRUSTEDINSTALLER'));
    expect(virtualAccountSid('ceb179-signer')).not.toBe(virtualAccountSid('ceb179-signer2'));
  });

  it('knows LocalSystem and the built-in service accounts by their well-known SIDs', () => {
    expect(resolveServiceAccount('s')).toMatchObject({ kind: 'LocalSystem', principal: { sid: 'S-1-5-18' } });
    expect(resolveServiceAccount('s', 'NT AUTHORITY\\SYSTEM')).toMatchObject({ name: 'LocalSystem' });
    expect(resolveServiceAccount('s', 'NT AUTHORITY\\Local Service')).toMatchObject({ principal: { sid: 'S-1-5-19' } });
    expect(resolveServiceAccount('s', 'nt authority\\networkservice')).toMatchObject({ principal: { sid: 'S-1-5-20' } });
  });

  it('prefers the requested account, then the current one', () => {
    expect(resolveServiceAccount('s', undefined, 'NT SERVICE\\s')).toMatchObject({ kind: 'Virtual' });
    expect(resolveServiceAccount('s', 'LocalSystem', 'NT SERVICE\\s')).toMatchObject({ kind: 'LocalSystem' });
  });
});
