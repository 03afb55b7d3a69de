import path from 'node:path';
import { resolveServiceAccount, type Principal, type ServiceAccount } from './accounts';
import { parseEnvFile } from './env-file';
import { PIN_FILE_RULES } from './pin-file';
import { checkSignerSettings } from './settings';
import { RESTART_POLICY, WHY_NO_PIN_LOOP } from './restart-policy';
import { stepsFor } from './steps';
import { renderWinswXml, type RestartPolicy } from './winsw-xml';

const win = path.win32;

/** What the person running the installer chose, and what the installer found on the PC. */
export interface InstallInputs {
  installDir: string;
  serviceName: string;
  nodeExe: string;
  /** Where signer.env is, and its text (read by the caller). */
  configFile: string;
  configText: string;
  /** %ProgramData% of the card PC: the default state folder lives there. */
  programData: string;
  serviceAccount?: string;
  /** The account an already installed service runs as (kept unless serviceAccount says otherwise). */
  currentServiceAccount?: string;
  /** WinSW-x64.exe to copy; required on the first installation only. */
  winswExe?: string;
  updatePin: boolean;
  skipDoctor: boolean;
  /** CEB179_CARD_PIN is set in the installer's own environment (its value is never passed in). */
  pinInEnvironment: boolean;
}

/** icacls rights: F full, M modify, RX read and execute, R read. */
export type Right = 'F' | 'M' | 'RX' | 'R';
export interface Grant {
  principal: Principal;
  right: Right;
  /** Folders: children inherit the grant ((OI)(CI)). */
  inherit: boolean;
}

interface StepBase {
  title: string;
}
export type Step = StepBase &
  (
    | { kind: 'require-path'; path: string; missing: string }
    | { kind: 'stop-service'; service: string }
    | { kind: 'create-directory'; path: string }
    /**
     * exact: inherited access removed, these grants replace any of the same principals, and the
     * removeSids (Everyone, Users, ...) lose any access they were given explicitly. add: these grants are added.
     */
    | { kind: 'set-acl'; path: string; mode: 'exact' | 'add'; grants: Grant[]; removeSids: string[] }
    | { kind: 'copy-file'; from: string; to: string }
    | { kind: 'write-file'; path: string; text: string; encoding: 'utf-8-no-bom' }
    /** The PIN is written to stagingPath (access set first), checked with checkCommand + that path, then moved over path. */
    | { kind: 'pin-file'; path: string; stagingPath: string; rewrite: boolean; grants: Grant[]; removeSids: string[]; checkCommand: string[] }
    | { kind: 'install-service'; service: string; wrapperExe: string }
    | { kind: 'configure-service'; service: string; scArguments: string[] }
    | { kind: 'set-service-account'; service: string; account: ServiceAccount; scArguments: string[] }
    | { kind: 'start-service'; service: string; healthUrl?: string; waitSeconds: number; pausedForPinAdvice: string }
    | { kind: 'run-doctor'; command: string[]; workingDirectory: string; env: Record<string, string> }
  );

export interface InstallPlan {
  serviceName: string;
  account: ServiceAccount;
  paths: {
    installDir: string;
    nodeExe: string;
    mainJs: string;
    doctorJs: string;
    installJs: string;
    pinStateJs: string;
    configFile: string;
    wrapperExe: string;
    wrapperXml: string;
    logDir: string;
    secretsDir: string;
    pinFile: string;
    stateDir: string;
  };
  /** Names only: values may hold the broker password. */
  settingNames: string[];
  /** Shown masked in the dry run. */
  sensitiveSettings: string[];
  xml: string;
  restartPolicy: RestartPolicy & { whyNoPinLoop: readonly string[] };
  pinFileRules: readonly string[];
  healthPort: number;
  steps: Step[];
  warnings: string[];
}

export type PlanResult = { ok: true; plan: InstallPlan } | { ok: false; errors: string[] };

const DEFAULT_HEALTH_PORT = 9179;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;
/** A drive-letter path (C:\...): the service manager runs nothing from a relative or network path. */
const LOCAL_ABSOLUTE = /^[A-Za-z]:\\/;

export function buildInstallPlan(inputs: InstallInputs): PlanResult {
  const errors: string[] = [];
  if (!SERVICE_NAME.test(inputs.serviceName)) {
    errors.push(`--service-name ${inputs.serviceName}: letters, digits, "_", "." and "-", starting with a letter or digit, at most 80`);
  }
  for (const [option, value] of [['--install-dir', inputs.installDir], ['--node-exe', inputs.nodeExe], ['ProgramData', inputs.programData]] as const) {
    if (!LOCAL_ABSOLUTE.test(value)) errors.push(`${option} ${value}: must be an absolute Windows path on a local drive, e.g. C:\\ceb179`);
  }
  if (inputs.winswExe !== undefined && !LOCAL_ABSOLUTE.test(inputs.winswExe)) errors.push(`--winsw-exe ${inputs.winswExe}: must be an absolute Windows path, e.g. C:\\Users\\op\\Downloads\\WinSW-x64.exe`);
  if (!win.isAbsolute(inputs.configFile) && !path.posix.isAbsolute(inputs.configFile)) errors.push(`--config-file ${inputs.configFile}: must be an absolute path`);
  const installDir = win.normalize(inputs.installDir).replace(/\\+$/, '');
  if (LOCAL_ABSOLUTE.test(inputs.installDir) && (installDir.length <= 3 || /^[A-Za-z]:\\Windows(\\|$)/i.test(installDir))) {
    errors.push(`--install-dir ${installDir}: use a folder of its own, such as C:\\ceb179 (its access is restricted to SYSTEM and Administrators)`);
  }
  if (!/\.exe$/i.test(inputs.nodeExe)) errors.push(`--node-exe ${inputs.nodeExe}: must name node.exe`);
  const account = resolveServiceAccount(inputs.serviceName, inputs.serviceAccount, inputs.currentServiceAccount);
  if (typeof account === 'string') errors.push(account);
  const parsed = parseEnvFile(inputs.configText, inputs.configFile);
  errors.push(...parsed.errors);
  const checked = checkSignerSettings(parsed.entries, installDir, inputs.configFile);
  errors.push(...checked.errors);
  if (errors.length > 0 || typeof account === 'string') return { ok: false, errors };
  return { ok: true, plan: planFor(inputs, installDir, account, checked.settings, checked.sensitive, checked.warnings) };
}

function planFor(inputs: InstallInputs, installDir: string, account: ServiceAccount, fileSettings: Array<[string, string]>, sensitive: Set<string>, fileWarnings: string[]): InstallPlan {
  const name = inputs.serviceName;
  const dist = win.join(installDir, 'services', 'signer', 'dist');
  const secretsDir = win.join(installDir, 'secrets');
  const settings = new Map(fileSettings);
  const warnings = [...fileWarnings];
  if (!settings.has('CEB179_CARD_PIN_FILE')) {
    settings.set('CEB179_CARD_PIN_FILE', win.join(secretsDir, 'card-pin.txt'));
    warnings.push(`CEB179_CARD_PIN_FILE is not set in ${inputs.configFile}; the PIN file is ${settings.get('CEB179_CARD_PIN_FILE')}`);
  }
  // The service and pin-state.js must agree on the folder whatever account runs them: always explicit.
  if (!settings.has('CEB179_SIGNER_STATE_DIR')) settings.set('CEB179_SIGNER_STATE_DIR', win.join(inputs.programData, 'ceb179', 'signer'));
  if (/\\Users\\|\\AppData\\/i.test(inputs.nodeExe)) {
    warnings.push(`node.exe is inside a user profile (${inputs.nodeExe}); a service should use a machine-wide Node.js (the .msi installs it in C:\\Program Files\\nodejs)`);
  }
  if (inputs.pinInEnvironment) {
    warnings.push('CEB179_CARD_PIN is set in the environment of this command (value not shown). If it is a Machine or User environment variable, the service sees it too and it overrides the PIN file: delete it (System Properties > Environment Variables)');
  }
  const paths = {
    installDir,
    nodeExe: inputs.nodeExe,
    mainJs: win.join(dist, 'main.js'),
    doctorJs: win.join(dist, 'doctor.js'),
    installJs: win.join(dist, 'install.js'),
    pinStateJs: win.join(dist, 'pin-state.js'),
    configFile: inputs.configFile,
    wrapperExe: win.join(installDir, `${name}.exe`),
    wrapperXml: win.join(installDir, `${name}.xml`),
    logDir: win.join(installDir, 'logs'),
    secretsDir,
    pinFile: settings.get('CEB179_CARD_PIN_FILE')!,
    stateDir: settings.get('CEB179_SIGNER_STATE_DIR')!,
  };
  const env = [...settings.entries()];
  const xml = renderWinswXml({
    serviceName: name,
    nodeExe: paths.nodeExe,
    mainJs: paths.mainJs,
    workingDirectory: installDir,
    logDir: paths.logDir,
    env,
    sourceFile: inputs.configFile,
    restart: RESTART_POLICY,
    stopTimeoutSeconds: 35,
    logSizeThresholdKb: 10_240,
    logKeepFiles: 8,
  });
  const healthPort = Number(settings.get('CEB179_SIGNER_HEALTH_PORT') ?? DEFAULT_HEALTH_PORT);
  return {
    serviceName: name,
    account,
    paths,
    settingNames: [...settings.keys()],
    sensitiveSettings: [...sensitive].filter((key) => settings.has(key)),
    xml,
    restartPolicy: { ...RESTART_POLICY, whyNoPinLoop: WHY_NO_PIN_LOOP },
    pinFileRules: PIN_FILE_RULES,
    healthPort,
    steps: stepsFor(inputs, paths, account, env, xml, healthPort),
    warnings,
  };
}
