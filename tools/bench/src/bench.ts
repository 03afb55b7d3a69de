import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@ceb179/testkit';
import { benchAssembler } from './assembler-section';
import { renderLatencyChart } from './chart';
import { undoOnSignals } from './cleanup';
import { benchIngress } from './ingress-section';
import { describeMachine } from './machine';
import { benchPipeline } from './pipeline-section';
import { Progress } from './progress';
import { CHART_FILE, renderMarkdown, writeIntoDoc } from './report';
import type { BenchResults } from './report-types';
import { parseSettings, UsageRequested } from './settings';
import { benchSigner } from './signer-section';
import { evaluateTargets } from './targets';

/**
 * `npm run bench`: ingress, the whole pipeline, the signer and the assembler measured on this
 * machine in one run, with progress lines on stderr, then the figures, ratios and targets on
 * stdout, written into docs/benchmarks.md (between its markers) and docs/benchmarks-latency.svg.
 * It asserts nothing and exits non-zero only when a section could not be measured.
 */
async function main(): Promise<number> {
  let settings;
  try {
    settings = parseSettings(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof UsageRequested) {
      console.log(error.message);
      return 0;
    }
    throw error;
  }
  undoOnSignals();
  const progress = new Progress();
  const started = Date.now();
  const machine = await describeMachine();
  progress.done(
    `npm run bench${settings.smoke ? ' (smoke)' : ''}: ${settings.sections.join(', ')} on ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadAverage}`,
  );
  const results: Omit<BenchResults, 'targets'> = {
    startedAt: new Date(started).toISOString(),
    smoke: settings.smoke,
    durationSeconds: 0,
    machine,
    settings,
  };
  const failures: string[] = [];
  const attempt = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${name}: ${text}`);
      progress.done(`${name} FAILED: ${text}`);
    }
  };
  if (settings.sections.includes('ingress'))
    await attempt('ingress', async () => void (results.ingress = await benchIngress(settings.ingress, progress)));
  if (settings.sections.includes('pipeline'))
    await attempt('pipeline', async () => void (results.pipeline = await benchPipeline(settings.pipeline, progress)));
  if (settings.sections.includes('signer'))
    await attempt('signer', async () => void (results.signer = await benchSigner(settings.signer, progress)));
  if (settings.sections.includes('assembler'))
    await attempt('assembler', async () => void (results.assembler = await benchAssembler(settings.assembler, progress)));
  results.durationSeconds = (Date.now() - started) / 1000;

  const complete: BenchResults = { ...results, targets: evaluateTargets(results) };
  const markdown = renderMarkdown(complete);
  console.log(`\n${markdown}\n`);
  if (settings.jsonPath) writeFileSync(settings.jsonPath, JSON.stringify(complete, null, 2));
  if (failures.length > 0) {
    console.error(`\n${failures.length} section(s) could not be measured; docs left alone:\n${failures.join('\n')}`);
    return 1;
  }
  if (settings.write) {
    const docs = path.join(repoRoot(), 'docs');
    writeIntoDoc(path.join(docs, 'benchmarks.md'), markdown);
    formatLikeTheRepository(path.join(docs, 'benchmarks.md'));
    writeFileSync(path.join(docs, CHART_FILE), renderLatencyChart(complete));
    progress.done(`wrote docs/benchmarks.md and docs/${CHART_FILE}`);
  } else {
    progress.done('docs left alone (--no-write, --smoke or --only)');
  }
  return 0;
}

/** The repository's formatting is checked (npm run check): the generated tables are aligned as prettier aligns them. */
function formatLikeTheRepository(file: string): void {
  const prettier = path.join(repoRoot(), 'node_modules', '.bin', 'prettier');
  if (existsSync(prettier)) execFileSync(prettier, ['--write', file], { stdio: 'ignore', timeout: 60_000 });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
