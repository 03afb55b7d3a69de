import { loadEportSimConfig } from './config';

describe('eport-sim config', () => {
  it('defaults to the real control port on loopback', () => {
    expect(loadEportSimConfig({})).toEqual({
      logLevel: 'info',
      port: 61232,
      host: '127.0.0.1',
      cardFile: '',
      algorithm: 'RSA',
      pin: '',
      latencyMs: 0,
      maxWrongPins: 3,
      signatureFormat: 'canonical',
      certificateFormat: 'canonical',
      certNoFormat: 'lower',
      greetingDelayMs: 0,
      answerPings: true,
      signEncoding: 'utf8',
    });
  });

  it('reads the quirks of a real control', () => {
    const config = loadEportSimConfig({
      CEB179_EPORT_SIM_SIGNATURE_FORMAT: 'crlf-lines',
      CEB179_EPORT_SIM_CERTIFICATE_FORMAT: 'pem',
      CEB179_EPORT_SIM_CERTNO_FORMAT: 'upper',
      CEB179_EPORT_SIM_GREETING_DELAY_MS: '-1',
      CEB179_EPORT_SIM_ANSWER_PINGS: 'false',
      CEB179_EPORT_SIM_SIGN_ENCODING: 'gbk',
    });
    expect(config).toMatchObject({
      signatureFormat: 'crlf-lines',
      certificateFormat: 'pem',
      certNoFormat: 'upper',
      greetingDelayMs: -1,
      answerPings: false,
      signEncoding: 'gbk',
    });
    expect(() => loadEportSimConfig({ CEB179_EPORT_SIM_SIGNATURE_FORMAT: 'hex' })).toThrow(/CEB179_EPORT_SIM_SIGNATURE_FORMAT/);
  });

  it('reads the CEB179_EPORT_SIM_* variables', () => {
    const config = loadEportSimConfig({
      CEB179_EPORT_SIM_PORT: '0',
      CEB179_EPORT_SIM_CARD_FILE: '/tmp/card.json',
      CEB179_EPORT_SIM_ALGORITHM: 'SM2',
      CEB179_EPORT_SIM_PIN: '13572468',
      CEB179_EPORT_SIM_LATENCY_MS: '250',
    });
    expect(config).toMatchObject({ port: 0, cardFile: '/tmp/card.json', algorithm: 'SM2', pin: '13572468', latencyMs: 250 });
  });

  it('names the variable of a bad value', () => {
    expect(() => loadEportSimConfig({ CEB179_EPORT_SIM_ALGORITHM: 'DSA' })).toThrow(/CEB179_EPORT_SIM_ALGORITHM/);
    expect(() => loadEportSimConfig({ CEB179_EPORT_SIM_PORT: 'eighty' })).toThrow(/CEB179_EPORT_SIM_PORT/);
  });
});
