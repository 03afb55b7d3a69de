import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '@ceb179/testkit';

/**
 * The built install.js as the PowerShell script runs it: a sample signer.env, a PIN in this
 * process's environment and in a PIN file, and the plan printed both ways.
 */
const INSTALL_JS = path.join(repoRoot(), 'services/signer/dist/install.js');
const PIN = '73195548';
const BROKER_PASSWORD = 'broker-pass-4411';
const SAMPLE_ENV = [
  '# card PC 1',
  `CEB179_AMQP_URL=amqps://signer-pc1:${BROKER_PASSWORD}@mq.cloud.test:5671/ceb179`,
  'CEB179_CARD_PIN_FILE=C:\\ceb179\\secrets\\card-pin.txt',
  'CEB179_SIGN_JOB_KEY_FILE=C:\\ceb179\\secrets\\sign-job-key.txt',
  'CEB179_SIGNER_EBP_CODES=3301963K69',
  'CEB179_SIGNER_ID=cardpc-1',
  '',
].join('\r\n');

let dir: string;
let configFile: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ceb179-install-'));
  configFile = path.join(dir, 'signer.env');
  writeFileSync(configFile, SAMPLE_ENV);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function install(args: string[], cwd?: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [INSTALL_JS, ...args], {
    encoding: 'utf8',
    ...(cwd ? { cwd } : {}),
    timeout: 20_000,
    // A PIN in the environment must not leak into the plan, its text or its errors.
    env: { PATH: process.env.PATH ?? '', CEB179_CARD_PIN: PIN, ProgramData: 'D:\\ProgramData' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const COMMON = [
  '--config-file',
  '',
  '--service-account',
  'NT SERVICE\\ceb179-signer',
  '--winsw-exe',
  'C:\\Users\\op\\Downloads\\WinSW-x64.exe',
];
const args = (...more: string[]) => [...more, ...COMMON.map((a) => a || configFile)];

describe('install.js', () => {
  it('--dry-run lists every step of the plan, numbered, and never a PIN or the broker password', () => {
    const json = install(args('--plan-json'));
    const dry = install(args('--dry-run'));
    expect(dry.code).toBe(0);
    const plan = JSON.parse(json.stdout) as { steps: Array<{ kind: string; title: string }> };
    plan.steps.forEach((step, index) => expect(dry.stdout).toContain(`${String(index + 1).padStart(3)}. ${step.title}`));
    for (const kind of [
      'require-path',
      'stop-service',
      'set-acl',
      'create-directory',
      'pin-file',
      'copy-file',
      'write-file',
      'install-service',
      'configure-service',
      'set-service-account',
      'start-service',
      'run-doctor',
    ]) {
      expect(plan.steps.map((s) => s.kind)).toContain(kind);
    }
    expect(dry.stdout).toContain('state folder    D:\\ProgramData\\ceb179\\signer');
    expect(dry.stdout).toContain('Why it cannot loop on a PIN refusal:');
    expect(dry.stdout).toContain('CEB179_CARD_PIN is set in the environment of this command (value not shown)');
    expect(dry.stdout + dry.stderr).not.toContain(PIN);
    expect(dry.stdout).not.toContain(BROKER_PASSWORD);
  });

  it('--plan-json prints the plan as JSON, with the definition the script writes, never a PIN', () => {
    const { code, stdout, stderr } = install(args('--plan-json'));
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout + stderr).not.toContain(PIN);
    const plan = JSON.parse(stdout) as {
      paths: Record<string, string>;
      xml: string;
      steps: Array<{ kind: string; text?: string; env?: Record<string, string> }>;
    };
    expect(plan.paths.stateDir).toBe('D:\\ProgramData\\ceb179\\signer');
    expect(plan.xml).toContain('<env name="CEB179_CARD_PIN_FILE" value="C:\\ceb179\\secrets\\card-pin.txt" />');
    expect(plan.xml).toContain('<env name="CEB179_SIGNER_STATE_DIR" value="D:\\ProgramData\\ceb179\\signer" />');
    expect(plan.xml).not.toMatch(/"CEB179_CARD_PIN"/);
    expect(plan.steps.find((s) => s.kind === 'write-file')?.text).toBe(plan.xml);
    expect(plan.steps.find((s) => s.kind === 'run-doctor')?.env).not.toHaveProperty('CEB179_CARD_PIN');
  });

  it('exits 2 and names every problem, without the PIN, when signer.env holds the PIN or a remote control', () => {
    const bad = path.join(dir, 'bad.env');
    writeFileSync(bad, `${SAMPLE_ENV}CEB179_CARD_PIN=${PIN}\r\nCEB179_EPORT_URL=ws://192.168.1.20:61232\r\n`);
    const { code, stdout, stderr } = install(['--dry-run', '--config-file', bad]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/line 7: CEB179_CARD_PIN must not be in this file/);
    expect(stderr).toMatch(/CEB179_EPORT_URL: 192\.168\.1\.20 is not this machine/);
    expect(stderr).not.toContain(PIN);
  });

  it('reads a relative --config-file from where it runs', () => {
    const { code, stdout } = install(['--dry-run', '--config-file', 'signer.env'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain(`settings        ${configFile}: CEB179_AMQP_URL, CEB179_CARD_PIN_FILE`);
  });

  it('exits 2 on a bad option, a bad service name, a missing settings file', () => {
    expect(install(['--dry-run', '--config-file', configFile, '--colour']).code).toBe(2);
    expect(install(['--dry-run', '--plan-json', '--config-file', configFile]).stderr).toMatch(/exactly one of --dry-run and --plan-json/);
    const name = install(['--dry-run', '--config-file', configFile, '--service-name', 'a b']);
    expect([name.code, name.stderr]).toEqual([2, expect.stringMatching(/--service-name a b/)]);
    const missing = install(['--dry-run', '--config-file', path.join(dir, 'none.env')]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/does not exist: copy deploy\\windows\\signer.env.template/)]);
  });

  it('--uninstall --dry-run and --plan-json: the removal plan, which keeps the state folder', () => {
    const dry = install(['--uninstall', '--dry-run', '--config-file', configFile, '--remove-data']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/Overwrite and delete the PIN file C:\\ceb179\\secrets\\card-pin\.txt/);
    expect(dry.stdout).toMatch(/Kept:\n {2}- the state folder D:\\ProgramData\\ceb179\\signer/);
    const json = install(['--uninstall', '--plan-json', '--config-file', path.join(dir, 'gone.env')]);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { steps: unknown[] }).steps).toHaveLength(5);
  });

  it('--check-pin-file tells a well-formed PIN file from a broken one without showing it', () => {
    const good = path.join(dir, 'pin-good.txt');
    const withBom = path.join(dir, 'pin-bom.txt');
    writeFileSync(good, PIN);
    writeFileSync(withBom, `\uFEFF${PIN}`);
    const ok = install(['--check-pin-file', good]);
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringContaining('well-formed (content not shown)')]);
    const broken = install(['--check-pin-file', withBom]);
    expect([broken.code, broken.stderr]).toEqual([2, expect.stringContaining('byte-order mark')]);
    expect(ok.stdout + ok.stderr + broken.stdout + broken.stderr).not.toContain(PIN);
  });
});
