import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pinFileProblem } from './domain/install/pin-file';
import { buildInstallPlan } from './domain/install/plan';
import { renderPlanText } from './domain/install/plan-text';
import { buildUninstallPlan, renderUninstallText } from './domain/install/uninstall-plan';

/**
 * The card PC's installation plan, computed and tested here so that deploy\windows\install-signer.ps1
 * only carries it out (PowerShell cannot be tested where ceb179 is built):
 *
 *   node services/signer/dist/install.js --dry-run   [options]   every step, numbered, in words
 *   node services/signer/dist/install.js --plan-json [options]   the same plan for the script
 *   node services/signer/dist/install.js --check-pin-file <path> is the PIN file well-formed (never shows it)
 *   node services/signer/dist/install.js --uninstall --dry-run|--plan-json [--remove-data]   removing it
 *
 * Options: --install-dir (C:\ceb179), --service-name (ceb179-signer), --config-file
 * (<install-dir>\signer.env), --node-exe (C:\Program Files\nodejs\node.exe), --service-account,
 * --current-service-account, --winsw-exe, --update-pin, --skip-doctor.
 * Exit code 0, or 2 with every problem listed on stderr. Settings come from the config file only;
 * the PIN is never read, except by --check-pin-file, which reports only the file's form.
 */
const USAGE =
  'usage: install.js --dry-run | --plan-json [--install-dir C:\\ceb179] [--service-name ceb179-signer] [--config-file <signer.env>] [--node-exe <node.exe>] [--service-account <account>] [--current-service-account <account>] [--winsw-exe <WinSW-x64.exe>] [--update-pin] [--skip-doctor]\n       install.js --check-pin-file <path>\n       install.js --uninstall --dry-run | --plan-json [--remove-data] [--install-dir ...] [--service-name ...] [--config-file ...]';

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'dry-run': { type: 'boolean' },
        'plan-json': { type: 'boolean' },
        'check-pin-file': { type: 'string' },
        'install-dir': { type: 'string', default: 'C:\\ceb179' },
        'service-name': { type: 'string', default: 'ceb179-signer' },
        'config-file': { type: 'string' },
        'node-exe': { type: 'string', default: 'C:\\Program Files\\nodejs\\node.exe' },
        'service-account': { type: 'string' },
        'current-service-account': { type: 'string' },
        'winsw-exe': { type: 'string' },
        'update-pin': { type: 'boolean', default: false },
        'skip-doctor': { type: 'boolean', default: false },
        uninstall: { type: 'boolean', default: false },
        'remove-data': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return fail([(error as Error).message, USAGE]);
  }
  if (values['check-pin-file'] !== undefined) return checkPinFile(values['check-pin-file']);
  if (Boolean(values['dry-run']) === Boolean(values['plan-json'])) return fail(['give exactly one of --dry-run and --plan-json', USAGE]);

  const installDir = values['install-dir'];
  // A relative --config-file is relative to where the command runs (the plan names it absolute).
  const configFile = values['config-file'] !== undefined ? path.resolve(values['config-file']) : path.win32.join(installDir, 'signer.env');
  const programData = process.env.ProgramData || 'C:\\ProgramData';
  if (values.uninstall) {
    const plan = buildUninstallPlan({
      installDir,
      serviceName: values['service-name'],
      configFile,
      configText: readIfPossible(configFile),
      programData,
      removeData: values['remove-data'],
    });
    if ('errors' in plan) return fail(plan.errors);
    process.stdout.write(values['plan-json'] ? `${JSON.stringify(plan, null, 2)}\n` : renderUninstallText(plan));
    return 0;
  }
  let configText: string;
  try {
    configText = readFileSync(configFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail([
      code === 'ENOENT'
        ? `the settings file ${configFile} does not exist: copy deploy\\windows\\signer.env.template there and fill it in`
        : `cannot read the settings file ${configFile} (${code ?? 'error'})`,
    ]);
  }
  const result = buildInstallPlan({
    installDir,
    serviceName: values['service-name'],
    nodeExe: values['node-exe'],
    configFile,
    configText,
    programData,
    ...(values['service-account'] ? { serviceAccount: values['service-account'] } : {}),
    ...(values['current-service-account'] ? { currentServiceAccount: values['current-service-account'] } : {}),
    ...(values['winsw-exe'] ? { winswExe: values['winsw-exe'] } : {}),
    updatePin: values['update-pin'],
    skipDoctor: values['skip-doctor'],
    pinInEnvironment: Boolean(process.env.CEB179_CARD_PIN),
  });
  if (!result.ok) return fail(result.errors);
  process.stdout.write(values['plan-json'] ? `${JSON.stringify(result.plan, null, 2)}\n` : renderPlanText(result.plan));
  return 0;
}

/** Removing the signer must work with a settings file that is broken or already gone. */
function readIfPossible(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function checkPinFile(file: string): number {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    return fail([`cannot read the PIN file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  const problem = pinFileProblem(bytes);
  bytes.fill(0);
  if (problem)
    return fail([
      `the PIN file ${file} is not usable: ${problem}. Nothing was sent to the card. Rewrite it with install-signer.ps1 -UpdatePin`,
    ]);
  process.stdout.write(`the PIN file ${file} is well-formed (content not shown)\n`);
  return 0;
}

function fail(problems: string[]): number {
  process.stderr.write(`${problems.map((p) => (p.startsWith('usage') ? p : `error: ${p}`)).join('\n')}\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
