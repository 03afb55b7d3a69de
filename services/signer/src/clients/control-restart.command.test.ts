import { environmentWithoutSecrets } from './control-restart.command';

describe('the control restart command environment', () => {
  it('holds neither the PIN variables nor any variable holding the PIN', () => {
    const env = environmentWithoutSecrets(
      {
        PATH: '/usr/bin',
        CEB179_CARD_PIN: '31337000',
        CEB179_CARD_PIN_FILE: 'C:\\secrets\\pin',
        COPIED: 'x31337000y',
        CEB179_EPORT_URL: 'ws://127.0.0.1:61232',
      },
      ['31337000'],
    );
    expect(env).toEqual({ PATH: '/usr/bin', CEB179_EPORT_URL: 'ws://127.0.0.1:61232' });
  });
});
