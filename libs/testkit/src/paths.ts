import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root (where tsconfig.base.json is). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'tsconfig.base.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('repository root not found');
    dir = parent;
  }
  return dir;
}
