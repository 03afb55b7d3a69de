import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@ceb179/testkit';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Every stdout line so far (JSON logs). */
  output(): string;
  /** SIGTERM and wait for exit (graceful drain). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit (a crash). */
  kill(): Promise<number | null>;
  exited(): Promise<number | null>;
}

const SIMULATORS = new Set(['customs-sim', 'eport-sim']);

/** What the image sets (Dockerfile, ENV NODE_OPTIONS): the memory settings the services are measured with. */
export const PRODUCTION_NODE_OPTIONS = '--max-semi-space-size=2';

/**
 * Runs a built service or simulator exactly as production does (`node services/<name>/dist/main.js`,
 * `node simulators/<name>/dist/main.js`) with the given environment, logging to .test-logs/ for
 * post-mortems.
 */
export function startServiceProcess(service: string, env: Record<string, string>, label = service): ServiceProcess {
  const root = repoRoot();
  const main = path.join(root, SIMULATORS.has(service) ? 'simulators' : 'services', service, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const logDir = path.join(root, '.test-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${label}-${Date.now()}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: PRODUCTION_NODE_OPTIONS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    log.write(chunk);
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const code = await exit;
    log.end();
    return code;
  };
  return {
    name: label,
    child,
    logFile,
    output: () => output,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    exited: () => exit,
  };
}

/** Waits until a process's output contains `text` (e.g. a "started" log line). */
export async function waitForOutput(processes: ServiceProcess, text: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!processes.output().includes(text)) {
    if (processes.child.exitCode !== null) {
      throw new Error(
        `${processes.name} exited (${processes.child.exitCode}) before printing "${text}":\n${processes.output().slice(-2000)}`,
      );
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${processes.name} did not print "${text}" within ${timeoutMs} ms:\n${processes.output().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
