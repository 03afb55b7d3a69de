import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as amqp from 'amqplib';
import { SoftCard, startEportSim, type EportSim } from '@ceb179/eport-sim';
import { declareSignJobRouting } from '@ceb179/mq';
import { createTestVhost, repoRoot, waitFor, type TestVhost } from '@ceb179/testkit';
import type { InstallPlan, Step } from '../src/domain/install/plan';

/**
 * A rehearsal of the card PC's installation on Linux: install.js computes the plan as it does for
 * install-signer.ps1, a stand-in for the script carries out its steps in order (Windows paths mapped
 * into a temporary folder, the service manager played by spawning what the written WinSW definition
 * says, with only its <env> settings), and the real signer runs from it against a simulated control
 * and a real RabbitMQ. What PowerShell alone does (icacls, sc.exe) is recorded, and checked to act on
 * paths that exist at that moment.
 */
const INSTALL_JS = path.join(repoRoot(), 'services/signer/dist/install.js');
const INSTALL_DIR = 'C:\\ceb179';
const PIN = '51736248';

let root: string;
let vhost: TestVhost;
let eport: EportSim;
let healthPort: number;
let signer: ChildProcess | undefined;
let signerOutput = '';
const card = SoftCard.create({ algorithm: 'SM2', pin: PIN });

/** Where a Windows path of the plan lives here: the release is this repository, node.exe this node. */
function onDisk(windowsPath: string): string {
  if (windowsPath === 'C:\\Program Files\\nodejs\\node.exe') return process.execPath;
  const release = /^C:\\ceb179\\(services|node_modules)(\\.*)?$/i.exec(windowsPath);
  if (release) return path.join(repoRoot(), ...windowsPath.slice(INSTALL_DIR.length + 1).split('\\'));
  if (/^[A-Za-z]:\\/.test(windowsPath)) return path.join(root, windowsPath[0]!, ...windowsPath.slice(3).split('\\').filter(Boolean));
  return windowsPath;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function plan(...args: string[]): InstallPlan {
  const result = spawnSync(
    process.execPath,
    [
      INSTALL_JS,
      '--plan-json',
      '--install-dir',
      INSTALL_DIR,
      '--config-file',
      onDisk('C:\\ceb179\\signer.env'),
      '--service-account',
      'NT SERVICE\\ceb179-signer',
      ...args,
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ProgramData: 'C:\\ProgramData' },
    },
  );
  if (result.status !== 0) throw new Error(`install.js failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as InstallPlan;
}

/** What the script did that only Windows can do, in order. */
const windowsOnly: string[] = [];
let serviceDefinition: string | undefined;

/** The stand-in for install-signer.ps1's loop over the plan. */
async function carryOut(steps: Step[], enteredPin: string): Promise<void> {
  for (const step of steps) {
    switch (step.kind) {
      case 'require-path':
        if (!existsSync(onDisk(step.path))) throw new Error(`${step.path} is missing: ${step.missing}`);
        break;
      case 'stop-service':
        await stopSigner();
        break;
      case 'create-directory':
        mkdirSync(onDisk(step.path), { recursive: true });
        break;
      case 'set-acl':
        if (!existsSync(onDisk(step.path))) throw new Error(`access rules for ${step.path}, which does not exist yet`);
        windowsOnly.push(`acl ${step.mode} ${step.path}`);
        break;
      case 'copy-file':
        copyFileSync(onDisk(step.from), onDisk(step.to));
        break;
      case 'write-file':
        writeFileSync(onDisk(step.path), step.text, 'utf8');
        break;
      case 'pin-file': {
        if (existsSync(onDisk(step.path)) && !step.rewrite) break;
        writeFileSync(onDisk(step.stagingPath), '');
        windowsOnly.push(`acl exact ${step.stagingPath}`);
        writeFileSync(onDisk(step.stagingPath), Buffer.from(enteredPin, 'utf8'));
        const [node, script, ...args] = step.checkCommand.map(onDisk);
        const check = spawnSync(node!, [script!, ...args, onDisk(step.stagingPath)], { encoding: 'utf8' });
        if (check.status !== 0) throw new Error(`PIN file check failed: ${check.stderr}`);
        renameSync(onDisk(step.stagingPath), onDisk(step.path));
        break;
      }
      case 'install-service':
        serviceDefinition = readFileSync(onDisk(step.wrapperExe.replace(/\.exe$/, '.xml')), 'utf8');
        windowsOnly.push(`install ${step.service}`);
        break;
      case 'configure-service':
      case 'set-service-account':
        windowsOnly.push(...step.scArguments.map((a) => `sc ${a}`));
        break;
      case 'start-service':
        startSignerAsWinswWould();
        break;
      case 'run-doctor':
        break;
    }
  }
}

/** WinSW: <executable> <argument> in <workingdirectory>, with the <env> entries and nothing else of ours. */
function startSignerAsWinswWould(): void {
  const xml = readFileSync(onDisk(`${INSTALL_DIR}\\ceb179-signer.xml`), 'utf8');
  const text = (tag: string) => unescape(new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)![1]!);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [, name, value] of xml.matchAll(/<env name="([^"]+)" value="([^"]*)" \/>/g)) env[name!] = onDisk(unescape(value!));
  signerOutput = '';
  signer = spawn(onDisk(text('executable')), [onDisk(text('argument'))], { cwd: onDisk(text('workingdirectory')), env });
  signer.stdout!.on('data', (chunk: Buffer) => (signerOutput += chunk.toString()));
  signer.stderr!.on('data', (chunk: Buffer) => (signerOutput += chunk.toString()));
}

function unescape(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

async function stopSigner(): Promise<void> {
  const running = signer;
  signer = undefined;
  if (!running || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGINT');
  await exited;
}

async function healthState(): Promise<string> {
  try {
    return await readHealthState();
  } catch (error) {
    throw new Error(`${(error as Error).message}\nthe signer said:\n${signerOutput.slice(-3000)}`);
  }
}

async function readHealthState(): Promise<string> {
  return waitFor(
    'the signer to leave "starting"',
    async () => {
      if (signer?.exitCode !== null && signer?.exitCode !== undefined) throw new Error(`the signer exited: ${signerOutput.slice(-1500)}`);
      const response = await fetch(`http://127.0.0.1:${healthPort}/health`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      const body = response ? ((await response.json()) as { state: string }) : undefined;
      return body && body.state !== 'starting' ? body.state : undefined;
    },
    30_000,
    200,
  );
}

/** Every file under the rehearsal's drive that holds the PIN. */
function filesHolding(secret: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (readFileSync(file).includes(Buffer.from(secret))) found.push(path.relative(root, file));
    }
  };
  walk(root);
  return found;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ceb179-card-pc-'));
  vhost = await createTestVhost();
  // What the assembler declares in the cloud: the signer only binds to it.
  const connection = await amqp.connect(vhost.url);
  await declareSignJobRouting(await connection.createChannel());
  await connection.close();
  eport = await startEportSim({ card });
  healthPort = await freePort();
  mkdirSync(onDisk(INSTALL_DIR), { recursive: true });
  mkdirSync(onDisk('C:\\Downloads'), { recursive: true });
  writeFileSync(onDisk('C:\\Downloads\\WinSW-x64.exe'), 'stand-in for WinSW');
  mkdirSync(onDisk(`${INSTALL_DIR}\\secrets`), { recursive: true });
  writeFileSync(onDisk(`${INSTALL_DIR}\\secrets\\sign-job-key.txt`), 'rehearsal-sign-job-key-0123456789abcdef');
  writeFileSync(
    onDisk(`${INSTALL_DIR}\\signer.env`),
    [
      `CEB179_AMQP_URL=${vhost.url}`,
      'CEB179_SIGN_JOB_KEY_FILE=secrets\\sign-job-key.txt',
      `CEB179_EPORT_URL=${eport.url}`,
      'CEB179_SIGNER_ID=cardpc-rehearsal',
      `CEB179_SIGNER_HEALTH_PORT=${healthPort}`,
      'CEB179_LOG_LEVEL=warn',
      '',
    ].join('\r\n'),
  );
});

afterAll(async () => {
  await stopSigner();
  await eport?.stop();
  await vhost?.delete();
  rmSync(root, { recursive: true, force: true });
});

// One story in three steps: each -UpdatePin needs the installation (and the card's attempt counts) the
// step before it left, so they are one test, not three that pass only in this order.
describe('the card PC installation, rehearsed', () => {
  it('installs, then -UpdatePin with a wrong PIN pauses the signer for good, then -UpdatePin with the right PIN makes it ready', async () => {
    // 1. The first installation writes the PIN file and the definition; the signer it defines starts ready with that PIN.
    const first = plan('--winsw-exe', 'C:\\Downloads\\WinSW-x64.exe');
    await carryOut(first.steps, PIN);
    expect(await healthState()).toBe('ready');
    expect(eport.stats()).toMatchObject({ pinAttempts: 1, wrongPinAttempts: 0 });
    expect(serviceDefinition).toContain('<env name="CEB179_CARD_PIN_FILE" value="C:\\ceb179\\secrets\\card-pin.txt" />');
    expect(readFileSync(onDisk(first.paths.pinFile)).equals(Buffer.from(PIN))).toBe(true);
    // The PIN is in the PIN file and nowhere else the installation wrote (the state folder holds a fingerprint).
    expect(filesHolding(PIN)).toEqual([path.join('C', 'ceb179', 'secrets', 'card-pin.txt')]);
    expect(readdirSync(onDisk(first.paths.stateDir))).toEqual([expect.stringMatching(/^pin-memory-.*\.json$/)]);
    expect(windowsOnly).toEqual(
      expect.arrayContaining([
        'acl exact C:\\ceb179',
        'acl exact C:\\ProgramData\\ceb179\\signer',
        'acl exact C:\\ceb179\\ceb179-signer.xml',
        'install ceb179-signer',
      ]),
    );

    // 2. -UpdatePin with a wrong PIN: the signer pauses; restarted again and again as Windows would, it never resends that PIN.
    await carryOut(plan('--update-pin').steps, '00000000');
    expect(await healthState()).toBe('paused-for-pin');
    expect(eport.stats()).toMatchObject({ pinAttempts: 2, wrongPinAttempts: 1 });
    for (let restart = 0; restart < 3; restart += 1) {
      await stopSigner();
      startSignerAsWinswWould();
      expect(await healthState()).toBe('paused-for-pin');
    }
    expect(eport.stats()).toMatchObject({ pinAttempts: 2, wrongPinAttempts: 1, locked: false });

    // 3. -UpdatePin with the right PIN: one try, ready again.
    await carryOut(plan('--update-pin').steps, PIN);
    expect(await healthState()).toBe('ready');
    expect(eport.stats()).toMatchObject({ pinAttempts: 3, wrongPinAttempts: 1 });
  }, 120_000);
});
