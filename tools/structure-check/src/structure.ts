import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/**
 * The monorepo's structure rules, checked from the files themselves (no build needed):
 * dependency declarations match imports, `@ceb179/*` dependencies match tsconfig references,
 * layers run one way (tools and tests -> services and simulators -> libs), and no import cycle
 * between packages or between the files of one package.
 */

export type Layer = 'libs' | 'services' | 'simulators' | 'tools';

export interface WorkspacePackage {
  name: string;
  /** Relative to the repository root, with forward slashes: `libs/config`. */
  dir: string;
  layer: Layer;
  dependencies: Set<string>;
  devDependencies: Set<string>;
  /** Directories (relative to the root) that tsconfig.json references. */
  references: Set<string>;
}

export interface SourceFile {
  /** Relative to the repository root. */
  file: string;
  /** A test or test support: under test/ or tests/, or `*.test.ts`. Excluded from the package build. */
  test: boolean;
  /** Module specifiers as written, type-only imports included (they make cycles and need their package to build). */
  imports: string[];
}

export interface Finding {
  rule: 'undeclared' | 'unused' | 'reference' | 'layer' | 'package-cycle' | 'file-cycle';
  where: string;
  message: string;
}

const LAYERS: readonly Layer[] = ['libs', 'services', 'simulators', 'tools'];
const BUILTINS = new Set(builtinModules);

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`; a relative path or a Node built-in -> null. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  if (specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
  return BUILTINS.has(name) ? null : name;
}

/** Every module a TypeScript file names: static imports and re-exports, `import()`, `require()`, `import('x').T`. */
export function importsOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const [argument] = node.arguments;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      if ((isRequire || isDynamicImport) && argument !== undefined && ts.isStringLiteralLike(argument)) {
        found.push(argument.text);
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function names(value: unknown): Set<string> {
  return new Set(typeof value === 'object' && value !== null ? Object.keys(value) : []);
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** tsconfig.json may hold comments and trailing commas; TypeScript's own reader accepts them. */
function readTsconfig(file: string): { references?: Array<{ path: string }> } {
  const result = ts.readConfigFile(file, (f) => readFileSync(f, 'utf8'));
  if (result.error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(result.error.messageText, '\n')}`);
  return result.config as { references?: Array<{ path: string }> };
}

export function loadPackages(root: string): WorkspacePackage[] {
  const packages: WorkspacePackage[] = [];
  for (const layer of LAYERS) {
    const layerDir = path.join(root, layer);
    if (!existsSync(layerDir)) continue;
    for (const entry of readdirSync(layerDir).sort()) {
      const dir = path.join(layerDir, entry);
      const manifestFile = path.join(dir, 'package.json');
      if (!existsSync(manifestFile)) continue;
      const manifest = readJson(manifestFile);
      const tsconfigFile = path.join(dir, 'tsconfig.json');
      const references = existsSync(tsconfigFile) ? (readTsconfig(tsconfigFile).references ?? []) : [];
      packages.push({
        name: String(manifest['name']),
        dir: toPosix(path.relative(root, dir)),
        layer,
        dependencies: names(manifest['dependencies']),
        devDependencies: names(manifest['devDependencies']),
        references: new Set(references.map((r) => toPosix(path.relative(root, path.resolve(dir, r.path))))),
      });
    }
  }
  return packages;
}

function walk(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir).sort()) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

export function loadFiles(root: string, dir: string): SourceFile[] {
  const files = [...walk(path.join(root, dir, 'src'), []), ...walk(path.join(root, dir, 'test'), [])];
  return files.map((full) => {
    const file = toPosix(path.relative(root, full));
    const inPackage = toPosix(path.relative(path.join(root, dir), full));
    return { file, test: inPackage.startsWith('test/') || file.endsWith('.test.ts'), imports: importsOf(full, readFileSync(full, 'utf8')) };
  });
}

/** The root's own tests (tests/): they may use any workspace package and the root's devDependencies. */
export function loadRootTests(root: string): SourceFile[] {
  return walk(path.join(root, 'tests'), []).map((full) => ({
    file: toPosix(path.relative(root, full)),
    test: true,
    imports: importsOf(full, readFileSync(full, 'utf8')),
  }));
}

/** `./x` from `a/b.ts` -> the .ts file it means (x.ts, x/index.ts), or null when it is not a source file. */
export function resolveRelative(fromFile: string, specifier: string, exists: (file: string) => boolean): string | null {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier)).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) if (candidate.endsWith('.ts') && exists(candidate)) return candidate;
  return null;
}

/** Every elementary cycle's representative: one cycle per strongly connected component (Tarjan). */
export function findCycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (node: string): void => {
    indexOf.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, indexOf.get(next) ?? 0));
      }
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      for (;;) {
        const member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1 || graph.get(node)?.has(node)) cycles.push(cyclePath(graph, component));
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indexOf.has(node)) connect(node);
  return cycles;
}

/** One concrete loop through a strongly connected component, for a readable message (a -> b -> a). */
function cyclePath(graph: Map<string, Set<string>>, component: string[]): string[] {
  const members = new Set(component);
  const start = [...members].sort()[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const loop = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = previous.get(at)) loop.splice(1, 0, at);
        return [...loop, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [...component, start];
}

/** What layer a package may import, for its build (src) and for its tests. */
function allowedLayers(from: Layer, test: boolean): readonly Layer[] {
  switch (from) {
    case 'libs':
      return ['libs'];
    case 'simulators':
      // A simulator's tests may drive the other simulator (customs checks what the soft card signs).
      return test ? ['libs', 'simulators'] : ['libs'];
    case 'services':
      // A service's tests may start the simulators (customs and the card are true edges).
      return test ? ['libs', 'simulators'] : ['libs'];
    case 'tools':
      return LAYERS;
  }
}

export interface Repository {
  packages: WorkspacePackage[];
  filesOf: Map<string, SourceFile[]>;
  rootTests: SourceFile[];
  rootDevDependencies: Set<string>;
}

export function loadRepository(root: string): Repository {
  const packages = loadPackages(root);
  return {
    packages,
    filesOf: new Map(packages.map((p) => [p.name, loadFiles(root, p.dir)])),
    rootTests: loadRootTests(root),
    rootDevDependencies: names(readJson(path.join(root, 'package.json'))['devDependencies']),
  };
}

/** `@types/x` for `x` (and `@types/scope__x` for `@scope/x`): a declared types package is used by importing `x`. */
function typesPackageFor(name: string): string {
  return name.startsWith('@') ? `@types/${name.slice(1).replace('/', '__')}` : `@types/${name}`;
}

export function checkRepository(repo: Repository): Finding[] {
  const findings: Finding[] = [];
  const byName = new Map(repo.packages.map((p) => [p.name, p]));
  const packageGraph = new Map<string, Set<string>>();

  for (const pkg of repo.packages) {
    const files = repo.filesOf.get(pkg.name) ?? [];
    const usedByBuild = new Set<string>();
    const usedByTests = new Set<string>();
    const fileGraph = new Map<string, Set<string>>();
    const known = new Set(files.map((f) => f.file));
    packageGraph.set(pkg.name, new Set());

    for (const file of files) {
      const edges = new Set<string>();
      fileGraph.set(file.file, edges);
      for (const specifier of file.imports) {
        const name = packageOf(specifier);
        if (name === null) {
          if (specifier.startsWith('.')) {
            const target = resolveRelative(file.file, specifier, (f) => known.has(f));
            if (target !== null) edges.add(target);
          }
          continue;
        }
        if (name === pkg.name) {
          findings.push({
            rule: 'undeclared',
            where: file.file,
            message: `imports its own package ${specifier} by name; use a relative path`,
          });
          continue;
        }
        (file.test ? usedByTests : usedByBuild).add(name);
        const declaredForBuild = pkg.dependencies.has(name);
        const declared =
          declaredForBuild || pkg.devDependencies.has(name) || (file.test && repo.rootDevDependencies.has(name) && !byName.has(name));
        if (!file.test && !declaredForBuild) {
          const hint = pkg.devDependencies.has(name) ? ' (it is only a devDependency, but the build uses it)' : '';
          findings.push({
            rule: 'undeclared',
            where: file.file,
            message: `imports ${name}, which ${pkg.dir}/package.json does not list in dependencies${hint}`,
          });
        } else if (!declared) {
          findings.push({
            rule: 'undeclared',
            where: file.file,
            message: `imports ${name}, which neither ${pkg.dir}/package.json nor the root devDependencies list`,
          });
        }
        const target = byName.get(name);
        if (target) {
          if (pkg.layer === 'services' && target.layer === 'services') {
            findings.push({ rule: 'layer', where: file.file, message: `a service imports another service (${name})` });
          } else if (!allowedLayers(pkg.layer, file.test).includes(target.layer)) {
            findings.push({
              rule: 'layer',
              where: file.file,
              message: `${pkg.layer}/ ${file.test ? 'tests' : 'code'} may not import ${target.layer}/ (${name})`,
            });
          }
          if (target.dir === 'libs/testkit' && !file.test && pkg.layer !== 'tools') {
            findings.push({
              rule: 'layer',
              where: file.file,
              message: `${name} (throw-away databases and fixtures) is for tests and tools only`,
            });
          }
          packageGraph.get(pkg.name)?.add(name);
        }
      }
    }

    const usedAnywhere = new Set([...usedByBuild, ...usedByTests]);
    const isUsed = (dep: string, used: Set<string>) =>
      used.has(dep) || (dep.startsWith('@types/') && [...used].some((u) => typesPackageFor(u) === dep));
    for (const dep of [...pkg.dependencies].sort()) {
      if (!isUsed(dep, usedByBuild)) {
        const hint = isUsed(dep, usedByTests) ? ': only tests use it, so it belongs in devDependencies' : '';
        findings.push({
          rule: 'unused',
          where: `${pkg.dir}/package.json`,
          message: `declares ${dep} in dependencies but its code never imports it${hint}`,
        });
      }
    }
    for (const dep of [...pkg.devDependencies].sort()) {
      if (!isUsed(dep, usedAnywhere))
        findings.push({
          rule: 'unused',
          where: `${pkg.dir}/package.json`,
          message: `declares ${dep} in devDependencies but nothing imports it`,
        });
    }
    for (const dep of [...pkg.dependencies].sort()) {
      const target = byName.get(dep);
      if (target && !pkg.references.has(target.dir)) {
        findings.push({
          rule: 'reference',
          where: `${pkg.dir}/tsconfig.json`,
          message: `depends on ${dep} but has no reference to ${target.dir}, so tsc -b ${pkg.dir} cannot build it first`,
        });
      }
      if (target) packageGraph.get(pkg.name)?.add(dep);
    }
    for (const dep of pkg.devDependencies) if (byName.has(dep)) packageGraph.get(pkg.name)?.add(dep);
    for (const reference of [...pkg.references].sort()) {
      const target = repo.packages.find((p) => p.dir === reference);
      if (!target)
        findings.push({
          rule: 'reference',
          where: `${pkg.dir}/tsconfig.json`,
          message: `references ${reference}, which is not a workspace package`,
        });
      else if (!pkg.dependencies.has(target.name)) {
        findings.push({
          rule: 'reference',
          where: `${pkg.dir}/tsconfig.json`,
          message: `references ${reference} but does not depend on ${target.name}`,
        });
      }
    }
    for (const cycle of findCycles(fileGraph)) {
      findings.push({ rule: 'file-cycle', where: pkg.dir, message: `import cycle: ${cycle.join(' -> ')}` });
    }
  }

  for (const file of repo.rootTests) {
    for (const specifier of file.imports) {
      const name = packageOf(specifier);
      if (name !== null && !byName.has(name) && !repo.rootDevDependencies.has(name)) {
        findings.push({
          rule: 'undeclared',
          where: file.file,
          message: `imports ${name}, which the root package.json does not list in devDependencies`,
        });
      }
    }
  }

  for (const cycle of findCycles(packageGraph)) {
    findings.push({ rule: 'package-cycle', where: 'package.json', message: `packages depend on each other: ${cycle.join(' -> ')}` });
  }
  return findings;
}
