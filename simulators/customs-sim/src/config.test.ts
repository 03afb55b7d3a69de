import { loadCustomsSimConfig } from './config';

describe('customs-sim config', () => {
  it('has local defaults', () => {
    expect(loadCustomsSimConfig({})).toEqual({
      logLevel: 'info',
      port: 8090,
      host: '127.0.0.1',
      certFiles: [],
      ebpCodes: [],
      rejectBadSignatures: false,
      strict: false,
      certWaitMs: 120000,
    });
  });

  it('splits the comma lists', () => {
    const config = loadCustomsSimConfig({
      CEB179_CUSTOMS_SIM_PORT: '18090',
      CEB179_CUSTOMS_SIM_CERT_FILES: '/a/card.json, /b/cert.pem,',
      CEB179_CUSTOMS_SIM_EBP_CODES: '4403160Z9A,4403160Z9B',
      CEB179_CUSTOMS_SIM_REJECT_BAD_SIGNATURES: 'true',
    });
    expect(config).toMatchObject({
      port: 18090,
      certFiles: ['/a/card.json', '/b/cert.pem'],
      ebpCodes: ['4403160Z9A', '4403160Z9B'],
      rejectBadSignatures: true,
    });
  });

  it('names the variable of a bad value', () => {
    expect(() => loadCustomsSimConfig({ CEB179_CUSTOMS_SIM_EBP_CODES: 'not a code!' })).toThrow(/CEB179_CUSTOMS_SIM_EBP_CODES/);
  });
});
