import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository stands alone: every relative link in README.md and docs/ points at a file of this
 * repository, and every #anchor at a heading or an <a id> of the target page. Nothing may point
 * outside the repository.
 */
const root = path.resolve(__dirname, '../..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? markdownFiles(full) : full.endsWith('.md') ? [full] : [];
  });
}

/** GitHub's heading ids: lowercase, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[^]*?```/g, '');
  const ids = [...text.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1] as string);
  const headings = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string));
  return new Set([...ids, ...headings]);
}

const pages = [path.join(root, 'README.md'), ...markdownFiles(path.join(root, 'docs'))];

describe('links in README.md and docs/', () => {
  it('point at files and anchors inside the repository', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(page, 'utf8').replace(/```[^]*?```/g, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = match[1] as string;
        if (/^[a-z]+:/.test(link)) continue; // https:, mailto: — outside links are fine to name
        const [target, anchor] = link.split('#') as [string, string | undefined];
        const file = target === '' ? page : path.resolve(path.dirname(page), target);
        const where = `${path.relative(root, page)}: ${link}`;
        if (!file.startsWith(root + path.sep) && file !== root) broken.push(`${where} (outside the repository)`);
        else if (!existsSync(file)) broken.push(`${where} (no such file)`);
        else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) broken.push(`${where} (no such anchor)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
