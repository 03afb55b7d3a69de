import { existsSync, readFileSync } from 'node:fs';
import { goldenVectorsPaths } from './testing/golden-vectors';

describe('the committed copy of vectors.json', () => {
  it('is byte-identical to the contract in shared/spec when that is present', () => {
    const { shared, committed } = goldenVectorsPaths();
    const copy = readFileSync(committed);
    expect(JSON.parse(copy.toString('utf8')).cases.length).toBeGreaterThan(0);
    if (existsSync(shared)) expect(copy.equals(readFileSync(shared))).toBe(true);
  });
});
