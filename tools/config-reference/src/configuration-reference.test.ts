import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REFERENCE_FILE, settingsConsumers, workspaceRoot } from './consumers';
import { renderConfigurationReference } from './reference';

describe('docs/configuration.md', () => {
  const root = workspaceRoot();
  const consumers = settingsConsumers(root, 'src');
  const generated = renderConfigurationReference(consumers);

  it('is what the convict schemas generate (else: run npm run docs:config)', () => {
    const committed = readFileSync(path.join(root, REFERENCE_FILE), 'utf8');
    if (committed !== generated) {
      throw new Error(`${REFERENCE_FILE} is out of date with the convict schemas: run npm run docs:config and commit the result`);
    }
  });

  it('lists every CEB179_* variable of every schema, secrets without their default', () => {
    const rows = generated.split('\n').filter((line) => line.startsWith('| `CEB179_'));
    for (const name of [
      'CEB179_AMQP_URL',
      'CEB179_CARD_PIN',
      'CEB179_CUSTOMS_URL',
      'CEB179_INGRESS_PORT',
      'CEB179_EPORT_SIM_PIN',
      'CEB179_SOURCE_SCHEMA',
    ]) {
      expect(rows.some((row) => row.startsWith(`| \`${name}\` |`))).toBe(true);
    }
    const amqp = rows.find((row) => row.startsWith('| `CEB179_AMQP_URL` |')) ?? '';
    expect(amqp).toContain('(secret)');
    expect(amqp).not.toContain('ceb179:ceb179@');
    expect(amqp).toMatch(/ingress, assembler, reporter, signer/);
    const port = rows.find((row) => row.startsWith('| `CEB179_INGRESS_PORT` |')) ?? '';
    expect(port).toContain('`8080`');
  });

  it('names the variable of a schema entry it was given, in order, once per distinct definition', () => {
    const text = renderConfigurationReference([
      { name: 'a', schema: { x: { doc: 'the x', format: 'nat', default: 3, env: 'CEB179_X' } } },
      {
        name: 'b',
        schema: {
          x: { doc: 'the x', format: 'nat', default: 3, env: 'CEB179_X' },
          w: { doc: 'w', format: ['p', 'q'], default: 'p', env: 'CEB179_W' },
        },
      },
    ]);
    expect(text).toContain('| `CEB179_W` | b | `p` | one of `p`, `q` | w |\n| `CEB179_X` | a, b | `3` | whole number ≥ 0 | the x |');
  });
});
