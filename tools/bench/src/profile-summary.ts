import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `node tools/bench/dist/profile-summary.js <file.cpuprofile>...`: where a service's CPU went, from
 * the V8 profiles `npm run bench -- --cpu-prof DIR` has the pipeline's services write. Prints the
 * share of sampled time by where the code lives (our packages, each dependency, Node's internals,
 * garbage collection) and the functions with the most self time.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a frame's code lives: a workspace package, a dependency, Node itself, or V8's own work. */
function placeOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return '(garbage collection)';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node: internals';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1] as string;
  const workspace = /\/(libs|services|simulators|tools)\/([^/]+)\//.exec(url);
  if (workspace) return `${workspace[1]}/${workspace[2]}`;
  return url;
}

function summarize(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i] as number, (selfUs.get(samples[i] as number) ?? 0) + (deltas[i] ?? 0));
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  // Time spent in Node's internals and native code, charged to the package whose code called into them.
  const callerPlace = (node: ProfileNode): string => {
    for (let at: ProfileNode | undefined = node; at; at = parent.get(at.id)) {
      const place = placeOf(at.callFrame.url, at.callFrame.functionName);
      if (!place.startsWith('(') && place !== 'node: internals') return place;
    }
    return placeOf(node.callFrame.url, node.callFrame.functionName);
  };
  const byCaller = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = placeOf(url, functionName);
    if (place === '(idle)') continue;
    busy += us;
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const caller = callerPlace(node);
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + us);
    const name =
      `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|libs|services|simulators|tools)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const share = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const lines = [
    `${path.basename(file)}: ${(busy / 1000).toFixed(0)} ms busy of ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms profiled`,
  ];
  lines.push('  by where the code lives:');
  for (const [place, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${share(us)}  ${place}`);
  lines.push('  by the package whose code ran or called into Node / V8 (logging, drivers, our code):');
  for (const [place, us] of [...byCaller].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${share(us)}  ${place}`);
  lines.push('  functions with the most self time:');
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${share(us)}  ${name}`);
  return lines.join('\n');
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node tools/bench/dist/profile-summary.js <file.cpuprofile>...');
  process.exit(2);
}
for (const file of files) console.log(`${summarize(file, 15)}\n`);
