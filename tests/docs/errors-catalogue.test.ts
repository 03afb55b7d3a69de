import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { alertDoc } from '@ceb179/logger';

/**
 * docs/errors.md is linked from log lines (errorDoc) and from other docs by anchor. These checks
 * fail when code gains an alert, a ledger status, a signer state, an error code or a customs code
 * that the catalogue does not explain, or when a link points at an anchor that does not exist.
 */
const root = path.resolve(__dirname, '../..');
const catalogue = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
const anchors = new Set([...catalogue.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1] as string));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist') return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

const productionCode = ['services', 'libs', 'tools']
  .flatMap((dir) => sourceFiles(path.join(root, dir)))
  .filter((file) => !file.includes(`${path.sep}test${path.sep}`))
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n');

describe('docs/errors.md', () => {
  it('has an entry for every alert the code logs, where errorDoc points', () => {
    // `alert: 'pin'`, and `alert: condition ? 'signer' : undefined`.
    const alerts = new Set([...productionCode.matchAll(/alert: (?:[^,}\n]*?\? )?'([a-z-]+)'/g)].map((m) => m[1] as string));
    expect(alerts.size).toBeGreaterThanOrEqual(8);
    for (const alert of alerts) {
      const target = alertDoc(alert);
      expect(target.startsWith('docs/errors.md#')).toBe(true);
      expect({ alert, documented: anchors.has(target.slice('docs/errors.md#'.length)) }).toEqual({ alert, documented: true });
    }
  });

  it('explains every ledger status of the migration', () => {
    const migration = readFileSync(path.join(root, 'libs/db/src/migrations/001-ledger.ts'), 'utf8');
    const check = /CHECK \(status IN \(([^)]*)\)\)/.exec(migration)?.[1] ?? '';
    const statuses = [...check.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string);
    expect(statuses.length).toBe(7);
    for (const status of statuses) expect({ status, documented: anchors.has(`status-${status}`) }).toEqual({ status, documented: true });
  });

  it('explains every signer state and every AppError code', () => {
    const statusSource = readFileSync(path.join(root, 'services/signer/src/domain/signer-status.ts'), 'utf8');
    // The states are a const list (SIGNER_STATES) or a union type, depending on the version.
    const states = (/SIGNER_STATES = \[([^\]]+)\]/.exec(statusSource) ?? /SignerState =([^;]+);/.exec(statusSource))?.[1] ?? '';
    const errorsSource = readFileSync(path.join(root, 'libs/errors/src/index.ts'), 'utf8').replace(/\/\/[^\n]*/g, '');
    const codes = /ErrorCode =([^;]+);/.exec(errorsSource)?.[1] ?? '';
    const names = [...states.matchAll(/'([a-z-]+)'/g)]
      .map((m) => `state-${m[1] as string}`)
      .concat([...codes.matchAll(/'([A-Z_]+)'/g)].map((m) => `code-${m[1] as string}`));
    expect(names.length).toBeGreaterThanOrEqual(15);
    for (const name of names) expect({ name, documented: anchors.has(name) }).toEqual({ name, documented: true });
  });

  it('explains the customs codes the reporter interprets and the control faults the signer knows', () => {
    const verdicts = readFileSync(path.join(root, 'services/reporter/src/domain/customs-codes.ts'), 'utf8');
    for (const code of [...verdicts.matchAll(/code === '(\d{5})'/g)].map((m) => m[1] as string)) {
      expect({ code, documented: anchors.has(`customs-${code}`) }).toEqual({ code, documented: true });
    }
    const faults = readFileSync(path.join(root, 'services/signer/src/domain/card-faults.ts'), 'utf8');
    for (const fault of [...faults.matchAll(/pattern: \/(\d{5})\//g)].map((m) => m[1] as string)) {
      expect({ fault, documented: anchors.has(`control-${fault}`) }).toEqual({ fault, documented: true });
    }
    for (const anchor of ['customs-20000', 'customs-other', 'customs-transport', 'control-pin', 'control-timeout'])
      expect(anchors.has(anchor)).toBe(true);
  });

  it('every in-page link and every docs/errors.md#… reference in docs and code points at an existing anchor', () => {
    const inPage = [...catalogue.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] as string);
    const docs = readdirSync(path.join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => readFileSync(path.join(root, 'docs', f), 'utf8'));
    // A reference completed by a template (`errors.md#alert-${alert}`) is checked by the tests above.
    const fromElsewhere = [...[...docs, productionCode].join('\n').matchAll(/errors\.md#([A-Za-z0-9_-]+)(\$\{)?/g)]
      .filter((m) => m[2] === undefined)
      .map((m) => m[1] as string);
    const broken = [...inPage, ...fromElsewhere].filter((anchor) => !anchors.has(anchor));
    expect(broken).toEqual([]);
  });
});
