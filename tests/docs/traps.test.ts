import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * docs/traps.md promises, for every trap, the tests that prove ceb179 handles it. This keeps the
 * promise honest: every referenced test file exists and holds a test with exactly that title.
 */
const root = path.resolve(__dirname, '../..');
const traps = readFileSync(path.join(root, 'docs/traps.md'), 'utf8');

interface Reference {
  trap: string;
  file: string;
  title: string;
}

function sections(): Array<{ anchor: string; body: string }> {
  return traps
    .split(/(?=<a id="[^"]+"><\/a>\n+## )/)
    .slice(1)
    .map((body) => ({ anchor: /<a id="([^"]+)">/.exec(body)?.[1] ?? '?', body }));
}

function referencesOf(section: { anchor: string; body: string }): Reference[] {
  return [...section.body.matchAll(/^- `([^`]+\.test\.ts)` › `([^`]+)`$/gm)].map((m) => ({
    trap: section.anchor,
    file: m[1] as string,
    title: m[2] as string,
  }));
}

/** The test's source with string escapes undone, so a title is found however it is quoted. */
function unescapedSource(file: string): string {
  return readFileSync(path.join(root, file), 'utf8').replace(/\\(['"`])/g, '$1');
}

function declaresTest(source: string, title: string): boolean {
  return ["'", '"', '`'].some((quote) =>
    new RegExp(`\\b(it|test)(\\.each\\([^]*?\\))?\\(\\s*${quote}${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${quote}`).test(source),
  );
}

describe('docs/traps.md', () => {
  const all = sections();

  it('names the traps the issue lists, each with at least one test', () => {
    const anchors = all.map((s) => s.anchor);
    for (const required of [
      'sign-string-format',
      'amount-form',
      'guid-case',
      'escaping',
      'nulls',
      'url-encoding',
      'certno-case',
      'operator-vs-legal-person-card',
      'rsa-vs-sm2',
      'sessionid-reused',
      'firewall-user-agent',
      'late-uploads',
      'locked-card',
    ]) {
      expect(anchors).toContain(required);
    }
    for (const section of all)
      expect({ trap: section.anchor, tests: referencesOf(section).length > 0 }).toEqual({ trap: section.anchor, tests: true });
  });

  it('every referenced test file exists and contains a test with the named title', () => {
    const references = all.flatMap(referencesOf);
    expect(references.length).toBeGreaterThanOrEqual(30);
    const missing = references.filter(
      (ref) => !existsSync(path.join(root, ref.file)) || !declaresTest(unescapedSource(ref.file), ref.title),
    );
    expect(missing).toEqual([]);
  });

  it('would notice a title that does not exist', () => {
    const source = unescapedSource('libs/protocol/src/amount.test.ts');
    expect(declaresTest(source, 'keeps every digit of amounts a float would round')).toBe(true);
    expect(declaresTest(source, 'keeps every digit of amounts a float would round off')).toBe(false);
    expect(declaresTest(source, 'keeps every digit')).toBe(false);
  });
});
