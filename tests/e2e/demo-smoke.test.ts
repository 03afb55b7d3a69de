import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '@ceb179/testkit';

/**
 * Runs the README's demo command itself (on spare ports and a private state folder) so it
 * cannot rot: it must end with every demo request uploaded and verified, and say so.
 */
describe('the demo command', () => {
  it('ends with every demo request uploaded and verified', async () => {
    const demoDir = mkdtempSync(path.join(tmpdir(), 'ceb179-demo-'));
    const base = 21_000 + Math.floor(Math.random() * 1_000);
    const env = {
      ...process.env,
      DEMO_COUNT: '6',
      DEMO_DIR: demoDir,
      CEB179_INGRESS_PORT: String(base),
      DEMO_CUSTOMS_SIM_PORT: String(base + 1),
      DEMO_EPORT_SIM_PORT: String(base + 2),
      DEMO_SIGNER_HEALTH_PORT: String(base + 3),
    };
    const run = spawn('bash', [path.join(repoRoot(), 'scripts/demo.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
    rmSync(demoDir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`demo exited ${code}:\n${output.slice(-4000)}`);
    expect(output).toMatch(/summary: 6\/6 callbacks answered 10000 and uploaded with a verified signature/);
    // one report line per request: reply code, upload code 10000, "verified", callback-to-upload time
    expect(output.match(/ 10000 +verified +\d+ ms/g)?.length).toBe(6);
  }, 240_000);
});
