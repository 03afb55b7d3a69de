import { existsSync, readFileSync } from 'node:fs';
import { goldenVectorsPath, goldenVectorsPaths } from './testing/golden-vectors';

function withoutNote(text: string): unknown {
  const { note: _note, ...cases } = JSON.parse(text) as Record<string, unknown>;
  return cases;
}

describe('the golden vectors', () => {
  it('are read from the copy committed in this repository', () => {
    const { committed } = goldenVectorsPaths();
    expect(goldenVectorsPath()).toBe(committed);
    const parsed = JSON.parse(readFileSync(committed, 'utf8')) as { cases: unknown[]; amounts: unknown[] };
    expect(parsed.cases.length).toBeGreaterThan(0);
    expect(parsed.amounts.length).toBeGreaterThan(0);
  });

  // Only where the upstream specification sits beside the checkout (ceb179's own development):
  // every case must be the same; the free-text note differs only in where it points the reader.
  it('match the upstream specification case for case when one is beside the checkout', () => {
    const { upstream, committed } = goldenVectorsPaths();
    if (!existsSync(upstream)) return;
    expect(withoutNote(readFileSync(committed, 'utf8'))).toEqual(withoutNote(readFileSync(upstream, 'utf8')));
  });
});
