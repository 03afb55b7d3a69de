import path from 'node:path';
import { resolveServiceAccount, type ServiceAccount } from './accounts';
import { parseEnvFile } from './env-file';
import { PIN_FILE_RULES } from './pin-file';
import { checkSignerSettings } from './settings';
import { RESTART_POLICY, WHY_NO_PIN_LOOP } from './restart-policy';
import { stepsFor } from './steps';
import type { InstallInputs, InstallPlan, PlanResult } from './plan-types';
import { renderWinswXml } from './winsw-xml';

export type { Grant, InstallInputs, InstallPlan, PlanResult, Right, Step } from './plan-types';

const win = path.win32;
const DEFAULT_HEALTH_PORT = 9179;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;
/** A drive-letter path (C:\...): the service manager runs nothing from a relative or network path. */
const LOCAL_ABSOLUTE = /^[A-Za-z]:\\/;

export function buildInstallPlan(inputs: InstallInputs): PlanResult {
  const errors: string[] = [];
  if (!SERVICE_NAME.test(inputs.serviceName)) {
    errors.push(`--service-name ${inputs.serviceName}: letters, digits, "_", "." and "-", starting with a letter or digit, at most 80`);
  }
  for (const [option, value] of [
    ['--install-dir', inputs.installDir],
    ['--node-exe', inputs.nodeExe],
    ['ProgramData', inputs.programData],
  ] as const) {
    if (!LOCAL_ABSOLUTE.test(value)) errors.push(`${option} ${value}: must be an absolute Windows path on a local drive, e.g. C:\\ceb179`);
  }
  if (inputs.winswExe !== undefined && !LOCAL_ABSOLUTE.test(inputs.winswExe))
    errors.push(`--winsw-exe ${inputs.winswExe}: must be an absolute Windows path, e.g. C:\\Users\\op\\Downloads\\WinSW-x64.exe`);
  if (!win.isAbsolute(inputs.configFile) && !path.posix.isAbsolute(inputs.configFile))
    errors.push(`--config-file ${inputs.configFile}: must be an absolute path`);
  const installDir = win.normalize(inputs.installDir).replace(/\\+$/, '');
  if (LOCAL_ABSOLUTE.test(inputs.installDir) && (installDir.length <= 3 || /^[A-Za-z]:\\Windows(\\|$)/i.test(installDir))) {
    errors.push(
      `--install-dir ${installDir}: use a folder of its own, such as C:\\ceb179 (its access is restricted to SYSTEM and Administrators)`,
    );
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

function planFor(
  inputs: InstallInputs,
  installDir: string,
  account: ServiceAccount,
  fileSettings: Array<[string, string]>,
  sensitive: Set<string>,
  fileWarnings: string[],
): InstallPlan {
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
    warnings.push(
      `node.exe is inside a user profile (${inputs.nodeExe}); a service should use a machine-wide Node.js (the .msi installs it in C:\\Program Files\\nodejs)`,
    );
  }
  if (inputs.pinInEnvironment) {
    warnings.push(
      'CEB179_CARD_PIN is set in the environment of this command (value not shown). If it is a Machine or User environment variable, the service sees it too and it overrides the PIN file: delete it (System Properties > Environment Variables)',
    );
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
