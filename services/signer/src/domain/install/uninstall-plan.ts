import path from 'node:path';
import { parseEnvFile } from './env-file';

const win = path.win32;

export interface UninstallInputs {
  installDir: string;
  serviceName: string;
  configFile: string;
  /** undefined when signer.env is gone or unreadable: the default places are used. */
  configText: string | undefined;
  programData: string;
  removeData: boolean;
}

export type UninstallStep = { title: string } & (
  | { kind: 'stop-service'; service: string }
  /** Through the wrapper (sc.exe delete if it is missing or fails); only if the service runs this wrapper. */
  | { kind: 'remove-service'; service: string; wrapperExe: string }
  /** Overwritten with random bytes (three passes, flushed), renamed, deleted: it holds a secret. */
  | { kind: 'shred-file'; path: string }
  /** Every file in it shredded, then the folder deleted. */
  | { kind: 'shred-folder'; path: string }
  | { kind: 'delete-file'; path: string }
  | { kind: 'delete-folder'; path: string }
);

export interface UninstallPlan {
  serviceName: string;
  steps: UninstallStep[];
  /** What stays, and why (shown after the steps). */
  kept: string[];
}

/**
 * Removing the signer from the card PC. Never fails on a broken signer.env (it only looks for the
 * PIN file and the state folder there). The state folder is always kept: it is what stops a later
 * installation from resending a PIN this card refused.
 */
export function buildUninstallPlan(inputs: UninstallInputs): UninstallPlan | { errors: string[] } {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(inputs.serviceName))
    return { errors: [`--service-name ${inputs.serviceName}: not a service name`] };
  if (!/^[A-Za-z]:\\./.test(inputs.installDir))
    return { errors: [`--install-dir ${inputs.installDir}: must be an absolute Windows path, e.g. C:\\ceb179`] };
  const installDir = win.normalize(inputs.installDir).replace(/\\+$/, '');
  const settings = new Map(
    (inputs.configText === undefined ? [] : parseEnvFile(inputs.configText, inputs.configFile).entries).map((e) => [e.key, e.value]),
  );
  const secretsDir = win.join(installDir, 'secrets');
  const pinFile = win.resolve(installDir, settings.get('CEB179_CARD_PIN_FILE') ?? win.join(secretsDir, 'card-pin.txt'));
  const stateDir = win.resolve(installDir, settings.get('CEB179_SIGNER_STATE_DIR') ?? win.join(inputs.programData, 'ceb179', 'signer'));
  const name = inputs.serviceName;
  const wrapperExe = win.join(installDir, `${name}.exe`);
  const wrapperXml = win.join(installDir, `${name}.xml`);
  const logDir = win.join(installDir, 'logs');
  const steps: UninstallStep[] = [
    {
      kind: 'stop-service',
      service: name,
      title: `Stop the service ${name} if it runs (jobs in flight finish; unstarted ones go back to RabbitMQ)`,
    },
    {
      kind: 'remove-service',
      service: name,
      wrapperExe,
      title: `Remove the service ${name} ("${wrapperExe} uninstall", or sc.exe delete), only if it runs ${wrapperExe}`,
    },
    {
      kind: 'shred-file',
      path: wrapperXml,
      title: `Overwrite and delete the service definition ${wrapperXml} (it holds the broker password)`,
    },
    { kind: 'delete-file', path: wrapperExe, title: `Delete the wrapper ${wrapperExe}` },
    { kind: 'delete-file', path: `${wrapperExe}.config`, title: `Delete ${wrapperExe}.config if present` },
  ];
  const kept = [
    `the state folder ${stateDir}: it remembers the PINs this card refused, so that a later installation never resends one ("node services\\signer\\dist\\pin-state.js show|clear" reads or forgets it)`,
    `the application files in ${installDir}: delete the folder by hand if you want them gone`,
  ];
  if (inputs.removeData) {
    steps.push(
      { kind: 'shred-file', path: pinFile, title: `Overwrite and delete the PIN file ${pinFile}` },
      { kind: 'shred-folder', path: secretsDir, title: `Overwrite and delete every file in ${secretsDir}, then the folder` },
      {
        kind: 'shred-file',
        path: inputs.configFile,
        title: `Overwrite and delete the settings ${inputs.configFile} (they hold the broker password)`,
      },
      { kind: 'delete-folder', path: logDir, title: `Delete the logs ${logDir}` },
    );
    kept.push('copies an SSD, a backup or a shadow copy may still hold: if this PC leaves your control, change the card PIN');
  } else {
    kept.unshift(
      `${inputs.configFile}, ${pinFile} and ${logDir} (-RemoveData deletes them): install-signer.ps1 puts the service back as it was`,
    );
  }
  return { serviceName: name, steps, kept };
}

export function renderUninstallText(plan: UninstallPlan): string {
  return [
    `ceb179 signer removal plan for the service ${plan.serviceName} (dry run: nothing is changed)`,
    '',
    'Steps',
    ...plan.steps.map((step, index) => `${String(index + 1).padStart(3)}. ${step.title}`),
    '',
    'Kept:',
    ...plan.kept.map((line) => `  - ${line}`),
    '',
  ].join('\n');
}
