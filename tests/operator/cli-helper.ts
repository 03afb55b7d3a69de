import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '@ceb179/testkit';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `ceb179` bin (as `npx ceb179` does) with the pipeline's settings; bounded in time. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'tools/cli/bin/ceb179.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ceb179 ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The CLI's settings for a pipeline: its ledger, its Redis db, its vhost (as the administrator). */
export function cliEnv(pipelineEnv: Record<string, string>): Record<string, string> {
  return {
    CEB179_DATABASE_URL: pipelineEnv.CEB179_DATABASE_URL as string,
    CEB179_REDIS_URL: pipelineEnv.CEB179_REDIS_URL as string,
    CEB179_AMQP_URL: pipelineEnv.CEB179_AMQP_URL as string,
  };
}
