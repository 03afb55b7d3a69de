import path from 'node:path';
import { checkRepository, loadRepository } from './structure';

/** `npm run structure` (part of `npm run check`): prints every structure finding; exits 1 if there is any. */
const root = path.resolve(__dirname, '../../..');
const started = Date.now();
const repo = loadRepository(root);
const findings = checkRepository(repo);
for (const finding of findings) console.log(`${finding.where}: [${finding.rule}] ${finding.message}`);
const files = [...repo.filesOf.values()].reduce((n, f) => n + f.length, repo.rootTests.length);
console.log(
  findings.length === 0
    ? `structure: ${repo.packages.length} packages, ${files} files: dependencies, references, layers and cycles all in order (${Date.now() - started} ms)`
    : `structure: ${findings.length} finding(s)`,
);
process.exitCode = findings.length === 0 ? 0 : 1;
