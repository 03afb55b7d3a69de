import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { repoRoot } from '@ceb179/testkit';
import { buildInstallPlan, type InstallInputs, type Step } from './plan';
import { signerSettings } from './settings';
import { buildUninstallPlan } from './uninstall-plan';

/**
 * PowerShell does not run where ceb179 is built and tested, so the Windows scripts are kept thin
 * and checked here: each parses as PowerShell, and the installer carries out every kind of step the
 * plan can hold (a plan step it does not know would stop it on the card PC).
 */
const WINDOWS = path.join(repoRoot(), 'deploy/windows');
const scripts = readdirSync(WINDOWS).filter((name) => name.endsWith('.ps1'));
let parser: Parser;

beforeAll(async () => {
  await Parser.init();
  parser = new Parser();
  parser.setLanguage(await Language.load(readFileSync(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'))));
});

function syntaxErrors(text: string): string[] {
  const tree = parser.parse(text.replace(/^\uFEFF/, ''));
  const errors: string[] = [];
  const walk = (node: Node) => {
    if (node.type === 'ERROR' || node.isMissing) errors.push(`line ${node.startPosition.row + 1}: ${node.text.slice(0, 60)}`);
    node.children.forEach(walk);
  };
  walk(tree!.rootNode);
  return errors;
}

/** The step kinds a script's switch handles ('kind' { ... }), after checking it reads the plan. */
function handledKinds(name: string): Set<string> {
  const script = readFileSync(path.join(WINDOWS, name), 'utf8');
  expect(script).toMatch(/install\.js|\$InstallJs/);
  expect(script).toMatch(/--plan-json/);
  expect(script).toMatch(/--dry-run/);
  return new Set([...script.matchAll(/^\s*'([a-z-]+)' \{/gm)].map((m) => m[1]!));
}

describe('the Windows scripts', () => {
  it('are all found', () => {
    expect(scripts).toEqual(expect.arrayContaining(['install-signer.ps1', 'check-signer.ps1', 'uninstall-signer.ps1']));
  });

  it.each(scripts)('%s parses as PowerShell and is saved as UTF-8 with BOM (Windows PowerShell 5.1 reads its Chinese text)', (name) => {
    const bytes = readFileSync(path.join(WINDOWS, name));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(syntaxErrors(bytes.toString('utf8'))).toEqual([]);
  });

  it('the grammar check can fail', () => {
    expect(syntaxErrors('function Broken { if ($x) { Write-Host "a" }')).not.toEqual([]);
  });

  it('install-signer.ps1 carries out every kind of step the plan can hold', () => {
    const base: InstallInputs = {
      installDir: 'C:\\ceb179',
      serviceName: 'ceb179-signer',
      nodeExe: 'C:\\Program Files\\nodejs\\node.exe',
      configFile: 'C:\\ceb179\\signer.env',
      configText:
        'CEB179_AMQP_URL=amqps://u:p@mq.cloud.test:5671/ceb179\nCEB179_AMQP_URL_FILE=\nCEB179_SIGN_JOB_KEY_FILE=secrets\\sign-job-key.txt\nNODE_EXTRA_CA_CERTS=C:\\ceb179\\secrets\\ca.pem',
      programData: 'C:\\ProgramData',
      serviceAccount: '.\\ceb179svc',
      winswExe: 'C:\\WinSW-x64.exe',
      updatePin: true,
      skipDoctor: false,
      pinInEnvironment: false,
    };
    const result = buildInstallPlan(base);
    if (!result.ok) throw new Error(result.errors.join('; '));
    const kinds = new Set<Step['kind']>(result.plan.steps.map((step) => step.kind));
    const handled = handledKinds('install-signer.ps1');
    expect(kinds.size).toBe(12);
    for (const kind of kinds) expect(handled).toContain(kind);
  });

  it('uninstall-signer.ps1 carries out every kind of step the removal plan can hold', () => {
    const result = buildUninstallPlan({
      installDir: 'C:\\ceb179',
      serviceName: 'ceb179-signer',
      configFile: 'C:\\ceb179\\signer.env',
      configText: undefined,
      programData: 'C:\\ProgramData',
      removeData: true,
    });
    if ('errors' in result) throw new Error(result.errors.join('; '));
    const kinds = new Set(result.steps.map((step) => step.kind));
    expect(kinds.size).toBe(6);
    const handled = handledKinds('uninstall-signer.ps1');
    for (const kind of kinds) expect(handled).toContain(kind);
  });

  it('signer.env.template names every setting of the signer but the PIN, and nothing else; filled in, it makes a plan', () => {
    const template = readFileSync(path.join(WINDOWS, 'signer.env.template'), 'utf8');
    const named = new Set([...template.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    const settings = signerSettings().map((s) => s.env);
    for (const name of named) expect([...settings, ...settings.map((s) => `${s}_FILE`), 'NODE_EXTRA_CA_CERTS']).toContain(name);
    expect(settings.filter((s) => s !== 'CEB179_CARD_PIN' && !named.has(s) && !named.has(`${s}_FILE`))).toEqual([]);
    expect(named).not.toContain('CEB179_CARD_PIN');
    const filledIn = template.replace(/^CEB179_AMQP_URL=.*$/m, 'CEB179_AMQP_URL=amqps://signer-pc1:pw@mq.cloud.test:5671/ceb179');
    const result = buildInstallPlan({
      installDir: 'C:\\ceb179',
      serviceName: 'ceb179-signer',
      nodeExe: 'C:\\Program Files\\nodejs\\node.exe',
      configFile: 'C:\\ceb179\\signer.env',
      configText: filledIn,
      programData: 'C:\\ProgramData',
      updatePin: false,
      skipDoctor: false,
      pinInEnvironment: false,
    });
    expect(result).toMatchObject({ ok: true });
    const unfilled = buildInstallPlan({
      installDir: 'C:\\ceb179',
      serviceName: 'ceb179-signer',
      nodeExe: 'C:\\node.exe',
      configFile: 'C:\\ceb179\\signer.env',
      configText: template,
      programData: 'C:\\ProgramData',
      updatePin: false,
      skipDoctor: false,
      pinInEnvironment: false,
    });
    expect(unfilled).toEqual({ ok: false, errors: [expect.stringMatching(/CEB179_AMQP_URL still holds the template's placeholder/)] });
  });
});
