import { defaultStateDir, loadSignerConfig } from './config';

// The broker URL and the sign-job key are required too (no built-in credentials).
const base = {
  CEB179_CARD_PIN: '12345678',
  CEB179_AMQP_URL: 'amqp://signer:secret@127.0.0.1:5672/ceb179',
  CEB179_SIGN_JOB_KEY: 'k'.repeat(32),
};

describe('signer configuration', () => {
  it('sends the PIN only to a control on this machine', () => {
    for (const url of ['ws://127.0.0.1:61232', 'ws://localhost:61232', 'ws://[::1]:61232', 'ws://127.0.0.2:61232']) {
      expect(loadSignerConfig({ ...base, CEB179_EPORT_URL: url }).eportUrl).toBe(url);
    }
    for (const url of ['ws://192.168.1.20:61232', 'ws://eport-sim:61232', 'wss://card-pc.example.cn:61232']) {
      expect(() => loadSignerConfig({ ...base, CEB179_EPORT_URL: url })).toThrow(
        /CEB179_EPORT_URL: .* is not this machine.*CEB179_SIGNER_ALLOW_REMOTE_CONTROL/,
      );
    }
    expect(
      loadSignerConfig({ ...base, CEB179_EPORT_URL: 'ws://eport-sim:61232', CEB179_SIGNER_ALLOW_REMOTE_CONTROL: 'true' }).eportUrl,
    ).toBe('ws://eport-sim:61232');
  });

  it('never puts the PIN in its error messages', () => {
    expect(() => loadSignerConfig({ CEB179_CARD_PIN: '12345678', CEB179_EPORT_URL: 'ws://10.0.0.1:1' })).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining('12345678') }),
    );
  });

  it('keeps PIN refusals in a state folder that suits the platform, or the one configured', () => {
    expect(defaultStateDir('win32', { ProgramData: 'D:\\ProgramData' })).toBe('D:\\ProgramData\\ceb179\\signer');
    expect(defaultStateDir('win32', {})).toBe('C:\\ProgramData\\ceb179\\signer');
    expect(loadSignerConfig({ ...base, CEB179_SIGNER_STATE_DIR: '/srv/signer-state' }).stateDir).toBe('/srv/signer-state');
    expect(loadSignerConfig(base).stateDir).toMatch(/ceb179[/\\]signer$/);
  });

  it('has keep-alive pings off by default', () => {
    expect(loadSignerConfig(base).controlKeepAliveMs).toBe(0);
  });
});
