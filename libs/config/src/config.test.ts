import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { commonSettings, loadConfig, type ConfigOf } from './index';

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  timeZone: commonSettings.timeZone,
  pin: { doc: 'secret', format: 'required-secret', default: '', env: 'CEB179_CARD_PIN', sensitive: true },
  port: { doc: 'port', format: 'port', default: 8080, env: 'CEB179_INGRESS_PORT' },
};

describe('loadConfig', () => {
  const AMQP_URL = 'amqp://user:pass@127.0.0.1:5672/v';

  it('takes defaults and env values', () => {
    const config = loadConfig(schema, { CEB179_CARD_PIN: '1234', CEB179_INGRESS_PORT: '9000', CEB179_AMQP_URL: AMQP_URL });
    expect(config).toEqual({ amqpUrl: AMQP_URL, timeZone: 'Asia/Shanghai', pin: '1234', port: 9000 });
  });

  it('has no built-in credentials: the broker and database URLs must be given', () => {
    expect(commonSettings.amqpUrl.default).toBe('');
    expect(commonSettings.databaseUrl.default).toBe('');
    expect(() => loadConfig(schema, { CEB179_CARD_PIN: '1' })).toThrow(/CEB179_AMQP_URL: must be a non-empty URL/);
  });

  it('names the variable of a bad value', () => {
    expect(() => loadConfig(schema, { CEB179_CARD_PIN: '1', CEB179_AMQP_URL: 'http://x' })).toThrow(
      /CEB179_AMQP_URL: must start with amqp: or amqps:/,
    );
    expect(() => loadConfig(schema, { CEB179_CARD_PIN: '1', CEB179_TIMEZONE: 'Mars/Olympus' })).toThrow(
      /CEB179_TIMEZONE: must be an IANA time zone/,
    );
    expect(() => loadConfig(schema, { CEB179_CARD_PIN: '1', CEB179_INGRESS_PORT: '70000' })).toThrow(/CEB179_INGRESS_PORT/);
  });

  it('names a missing required secret without printing any value', () => {
    let message = '';
    try {
      loadConfig(schema, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/CEB179_CARD_PIN: must be set \(or give <NAME>_FILE, a file holding it\)/);
  });

  it('never echoes a secret in an error', () => {
    let message = '';
    try {
      loadConfig(schema, { CEB179_CARD_PIN: 'S3CRET-PIN', CEB179_AMQP_URL: 'nonsense://S3CRET-PIN' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('CEB179_AMQP_URL');
    expect(message).not.toContain('S3CRET-PIN');
  });

  it('reads <NAME>_FILE, dropping the final newline', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ceb179-config-'));
    const file = path.join(dir, 'pin');
    writeFileSync(file, '8888\n');
    const config = loadConfig(schema, { CEB179_CARD_PIN_FILE: file, CEB179_AMQP_URL: AMQP_URL });
    expect(config.pin).toBe('8888');
    expect(() => loadConfig(schema, { CEB179_CARD_PIN_FILE: path.join(dir, 'missing'), CEB179_AMQP_URL: AMQP_URL })).toThrow(
      /CEB179_CARD_PIN_FILE: cannot read .* \(ENOENT\)/,
    );
  });

  it('types the settings from the schema itself (checked by npm run typecheck)', () => {
    const withChoices = {
      port: { doc: 'port', format: 'port', default: 8080, env: 'CEB179_INGRESS_PORT' },
      algorithm: { doc: 'algorithm', format: ['RSA', 'SM2'] as const, default: 'RSA', env: 'CEB179_EPORT_SIM_ALGORITHM' },
      list: { doc: 'list', format: 'string-list', default: [] as string[], env: 'CEB179_CUSTOMS_SIM_EBP_CODES' },
      group: { flag: { doc: 'flag', format: Boolean, default: false, env: 'CEB179_CUSTOMS_SIM_STRICT' } },
    };
    const config: ConfigOf<typeof withChoices> = loadConfig(withChoices, { CEB179_EPORT_SIM_ALGORITHM: 'SM2' });
    const exact: { port: number; algorithm: 'RSA' | 'SM2'; list: string[]; group: { flag: boolean } } = config;
    // @ts-expect-error a setting the schema does not have is not in the type
    expect(config.missing).toBeUndefined();
    // @ts-expect-error a format that lists its choices narrows the type to them
    const anyText: typeof config.algorithm = 'DSA';
    expect(anyText).toBe('DSA');
    expect(exact).toEqual({ port: 8080, algorithm: 'SM2', list: [], group: { flag: false } });
  });
});
