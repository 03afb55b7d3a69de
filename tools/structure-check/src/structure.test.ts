import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkRepository, findCycles, importsOf, loadRepository, packageOf, type Finding } from './structure';

/** A throw-away monorepo on disk: { 'libs/a/package.json': '{...}', 'libs/a/src/index.ts': '...' }. */
function repository(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ceb179-structure-'));
  for (const [file, text] of Object.entries({ 'package.json': JSON.stringify({ devDependencies: { jest: '*' } }), ...files })) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

function pkg(name: string, dependencies: Record<string, string> = {}, devDependencies: Record<string, string> = {}): string {
  return JSON.stringify({ name, dependencies, devDependencies });
}

function tsconfig(...references: string[]): string {
  return JSON.stringify({ references: references.map((p) => ({ path: p })) });
}

const roots: string[] = [];
function findingsOf(files: Record<string, string>): Finding[] {
  const root = repository(files);
  roots.push(root);
  return checkRepository(loadRepository(root));
}

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A healthy base: a lib, a service using it, a simulator, a tool using the service and testkit. */
const healthy: Record<string, string> = {
  'libs/errors/package.json': pkg('@x/errors'),
  'libs/errors/tsconfig.json': tsconfig(),
  'libs/errors/src/index.ts': 'export class AppError extends Error {}\n',
  'libs/testkit/package.json': pkg('@x/testkit'),
  'libs/testkit/tsconfig.json': tsconfig(),
  'libs/testkit/src/index.ts': 'export const fixture = 1;\n',
  'services/svc/package.json': pkg('@x/svc', { '@x/errors': '*', pg: '*' }, { '@x/testkit': '*', '@x/sim': '*' }),
  'services/svc/tsconfig.json': tsconfig('../../libs/errors'),
  'services/svc/src/main.ts':
    "import { AppError } from '@x/errors';\nimport { Pool } from 'pg';\nimport { helper } from './helper';\nexport { AppError, Pool, helper };\n",
  'services/svc/src/helper.ts': "import type { AppError } from '@x/errors';\nexport const helper = (e: AppError) => e;\n",
  'services/svc/test/svc.test.ts':
    "import { fixture } from '@x/testkit';\nimport { sim } from '@x/sim';\nimport { expect } from 'jest';\nimport { helper } from '../src/helper';\nvoid [fixture, sim, expect, helper];\n",
  'simulators/sim/package.json': pkg('@x/sim', { '@x/errors': '*' }),
  'simulators/sim/tsconfig.json': tsconfig('../../libs/errors'),
  'simulators/sim/src/index.ts': "import { AppError } from '@x/errors';\nexport const sim = AppError;\n",
  'tools/tool/package.json': pkg('@x/tool', { '@x/svc': '*', '@x/testkit': '*' }),
  'tools/tool/tsconfig.json': tsconfig('../../services/svc', '../../libs/testkit'),
  'tools/tool/src/main.ts':
    "import '@x/svc';\nimport { fixture } from '@x/testkit';\nimport { readFileSync } from 'node:fs';\nimport path = require('path');\nvoid [fixture, readFileSync, path];\n",
  'tests/e2e.test.ts': "import { fixture } from '@x/testkit';\nimport { expect } from 'jest';\nvoid [fixture, expect];\n",
};

describe('the structure check', () => {
  it('finds nothing wrong in a repository that follows the rules', () => {
    expect(findingsOf(healthy)).toEqual([]);
  });

  it('reports an import its package.json does not declare, and a build import declared only for tests', () => {
    const findings = findingsOf({
      ...healthy,
      'services/svc/src/extra.ts': "import Redis from 'ioredis';\nimport { fixture } from '@x/testkit';\nexport { Redis, fixture };\n",
    });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'undeclared',
        where: 'services/svc/src/extra.ts',
        message: expect.stringContaining('imports ioredis'),
      }),
      expect.objectContaining({ rule: 'undeclared', message: expect.stringContaining('only a devDependency') }),
      expect.objectContaining({ rule: 'layer', message: expect.stringContaining('@x/testkit') }),
    ]);
  });

  it('lets tests, but not the build, use the root devDependencies', () => {
    const findings = findingsOf({ ...healthy, 'libs/errors/src/uses-jest.ts': "import { expect } from 'jest';\nexport { expect };\n" });
    expect(findings).toEqual([expect.objectContaining({ rule: 'undeclared', where: 'libs/errors/src/uses-jest.ts' })]);
  });

  it('reports a declared dependency nothing imports, and one only tests import', () => {
    const findings = findingsOf({
      ...healthy,
      'simulators/sim/package.json': pkg('@x/sim', { '@x/errors': '*', ws: '*', 'sm-crypto': '*' }),
      'simulators/sim/test/sim.test.ts': "import 'sm-crypto';\n",
    });
    expect(findings.map((f) => f.message)).toEqual([
      'declares sm-crypto in dependencies but its code never imports it: only tests use it, so it belongs in devDependencies',
      'declares ws in dependencies but its code never imports it',
    ]);
  });

  it('reports a @ceb179 dependency without a tsconfig reference, and a reference without a dependency', () => {
    const findings = findingsOf({ ...healthy, 'services/svc/tsconfig.json': tsconfig('../../libs/testkit') });
    expect(findings.map((f) => [f.rule, f.message])).toEqual([
      ['reference', expect.stringContaining('depends on @x/errors but has no reference to libs/errors')],
      ['reference', expect.stringContaining('references libs/testkit but does not depend on @x/testkit')],
    ]);
  });

  it('reports imports that run up the layers or sideways between services', () => {
    const findings = findingsOf({
      ...healthy,
      'libs/errors/package.json': pkg('@x/errors', { '@x/sim': '*' }),
      'libs/errors/tsconfig.json': tsconfig('../../simulators/sim'),
      'libs/errors/src/up.ts': "export { sim } from '@x/sim';\n",
      'services/other/package.json': pkg('@x/other', { '@x/svc': '*' }),
      'services/other/tsconfig.json': tsconfig('../svc'),
      'services/other/src/main.ts': "import '@x/svc';\n",
    });
    const layer = findings.filter((f) => f.rule === 'layer').map((f) => `${f.where}: ${f.message}`);
    expect(layer).toEqual([
      'libs/errors/src/up.ts: libs/ code may not import simulators/ (@x/sim)',
      'services/other/src/main.ts: a service imports another service (@x/svc)',
    ]);
    // errors -> sim -> errors is also a cycle between packages.
    expect(findings.filter((f) => f.rule === 'package-cycle').map((f) => f.message)).toEqual([
      'packages depend on each other: @x/errors -> @x/sim -> @x/errors',
    ]);
  });

  it('reports an import cycle between the files of a package, type-only imports included', () => {
    const findings = findingsOf({
      ...healthy,
      'services/svc/src/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'services/svc/src/b.ts': "import { c } from './c/index';\nexport const b = () => c;\n",
      'services/svc/src/c/index.ts': "import { a } from '../a';\nexport const c = () => a;\n",
      'services/svc/src/d.ts': "import type { E } from './e';\nexport type D = E;\n",
      'services/svc/src/e.ts': "import { type D } from './d';\nexport type E = D | 1;\n",
    });
    expect(findings.map((f) => `${f.rule} ${f.message}`)).toEqual([
      'file-cycle import cycle: services/svc/src/a.ts -> services/svc/src/b.ts -> services/svc/src/c/index.ts -> services/svc/src/a.ts',
      'file-cycle import cycle: services/svc/src/d.ts -> services/svc/src/e.ts -> services/svc/src/d.ts',
    ]);
  });
});

describe('importsOf', () => {
  it('sees static, type-only, re-exported, required, dynamic and type-position imports', () => {
    const text = [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import { type C } from 'c';",
      "import { type D, d } from 'd';",
      "export { e } from 'e';",
      "export type { F } from 'f';",
      "const g = require('g');",
      "const h = await import('h');",
      "type I = import('i').I;",
      "import j = require('j');",
      "import 'k';",
    ].join('\n');
    expect(importsOf('x.ts', text)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']);
  });

  it('names packages by their root, and not Node built-ins or relative paths', () => {
    expect(['@scope/pkg/deep', 'pkg/sub', 'node:fs', 'fs', './x', '../y'].map(packageOf)).toEqual([
      '@scope/pkg',
      'pkg',
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('findCycles', () => {
  it('finds self-loops and larger loops, one per strongly connected group', () => {
    const graph = new Map<string, Set<string>>([
      ['a', new Set(['b'])],
      ['b', new Set(['a', 'c'])],
      ['c', new Set(['d'])],
      ['d', new Set(['d'])],
      ['e', new Set(['a'])],
    ]);
    expect(findCycles(graph)).toEqual([
      ['d', 'd'],
      ['a', 'b', 'a'],
    ]);
  });
});
