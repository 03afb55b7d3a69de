import path from 'node:path';
import { ADMINISTRATORS, samePrincipal, SYSTEM, type ServiceAccount } from './accounts';
import type { Grant, InstallInputs, InstallPlan, Right, Step } from './plan-types';
import { RESTART_POLICY } from './restart-policy';

const HEALTH_WAIT_SECONDS = 90;

/**
 * Every step the installer takes, in order, each one an action the PowerShell script carries out
 * as it stands (it decides nothing). Nothing is changed before every check has passed; the service
 * is stopped before its wrapper or definition changes; the PIN file gets its access rules before
 * the PIN is written into it.
 */
export function stepsFor(
  inputs: InstallInputs,
  paths: InstallPlan['paths'],
  account: ServiceAccount,
  env: Array<[string, string]>,
  xml: string,
  healthPort: number,
): Step[] {
  const name = inputs.serviceName;
  const owners = (right: Right, inherit: boolean): Grant[] => [
    { principal: SYSTEM, right: 'F', inherit },
    { principal: ADMINISTRATORS, right: 'F', inherit },
    ...forAccount(account, right, inherit),
  ];
  const otherFiles = env
    .filter(([key]) => (key.endsWith('_FILE') && key !== 'CEB179_CARD_PIN_FILE') || key === 'NODE_EXTRA_CA_CERTS')
    .map(([, file]) => file);
  const steps: Step[] = [
    requirePath(
      paths.mainJs,
      'the release is not in the install folder: copy the built repository there (npm ci && npm run build && npm prune --omit=dev on a build machine)',
    ),
    requirePath(paths.doctorJs, 'the release is incomplete (services\\signer\\dist\\doctor.js)'),
    requirePath(path.win32.join(paths.installDir, 'node_modules'), 'the release is incomplete (node_modules)'),
    requirePath(paths.nodeExe, 'install Node.js 20 LTS (x64 .msi) or pass -NodeExe'),
    inputs.winswExe
      ? requirePath(inputs.winswExe, 'download WinSW-x64.exe (WinSW 2.x releases on GitHub) and pass its path with -WinSWExe')
      : requirePath(paths.wrapperExe, 'the first installation needs -WinSWExe (WinSW-x64.exe, WinSW 2.x releases on GitHub)'),
    ...otherFiles.map((file) => requirePath(file, 'a *_FILE setting of signer.env names a file that does not exist')),
    {
      kind: 'stop-service',
      service: name,
      title: `Stop the service ${name} if it runs (it finishes the jobs in flight, up to 35 s), so that its wrapper and definition can change`,
    },
    acl(
      paths.installDir,
      'exact',
      owners('RX', true),
      'nobody else may change the code that runs as the service, or read the broker credentials',
    ),
    { kind: 'create-directory', path: paths.logDir, title: `Create the log folder ${paths.logDir} if missing` },
    ...(isSystem(account) ? [] : [acl(paths.logDir, 'add', forAccount(account, 'M', true), 'the service writes its logs there')]),
    { kind: 'create-directory', path: paths.secretsDir, title: `Create the secrets folder ${paths.secretsDir} if missing` },
    acl(paths.secretsDir, 'exact', owners('RX', true), 'it holds the PIN file'),
    acl(
      paths.configFile,
      'exact',
      [
        { principal: SYSTEM, right: 'F', inherit: false },
        { principal: ADMINISTRATORS, right: 'F', inherit: false },
      ],
      'signer.env holds the broker password; the service reads its settings from its definition, not from this file',
    ),
    {
      kind: 'create-directory',
      path: paths.stateDir,
      title: `Create the signer's state folder ${paths.stateDir} if missing (where it remembers PIN refusals)`,
    },
    acl(
      paths.stateDir,
      'exact',
      owners('M', true),
      'the signer writes its PIN-refusal memory there; fingerprints of short PINs can be brute-forced, so it is as private as the PIN file',
    ),
    ...(path.win32.dirname(paths.pinFile).toLowerCase() === paths.secretsDir.toLowerCase()
      ? []
      : [
          {
            kind: 'create-directory',
            path: path.win32.dirname(paths.pinFile),
            title: `Create the PIN file's folder ${path.win32.dirname(paths.pinFile)} if missing`,
          } as Step,
        ]),
    {
      kind: 'pin-file',
      path: paths.pinFile,
      stagingPath: `${paths.pinFile}.new`,
      rewrite: inputs.updatePin,
      grants: owners('R', false),
      removeSids: Object.values(BROAD_SIDS),
      checkCommand: [paths.nodeExe, paths.installJs, '--check-pin-file'],
      title: `${
        inputs.updatePin
          ? 'Ask for the card PIN twice (not shown) and replace the PIN file'
          : `If ${paths.pinFile} is missing, ask for the card PIN twice (not shown) and write the PIN file`
      }: ${paths.pinFile}.new is created empty, its access set to exactly ${words(owners('R', false))} (inherited access removed), the PIN written into it as UTF-8 without BOM and without a trailing newline, its form checked (not its content), and only then is it moved over ${paths.pinFile}.${
        inputs.updatePin
          ? ''
          : ' An existing PIN file is kept (-UpdatePin replaces it): its access is set the same way and its form checked.'
      }`,
    },
    ...(isSystem(account) ? [] : otherFiles.map((file) => acl(file, 'add', forAccount(account, 'R', false), 'the service reads it'))),
    ...(inputs.winswExe
      ? [
          {
            kind: 'copy-file',
            from: inputs.winswExe,
            to: paths.wrapperExe,
            title: `Copy WinSW ${inputs.winswExe} to ${paths.wrapperExe} (unless it is already the same file)`,
          } as Step,
        ]
      : []),
    {
      kind: 'write-file',
      path: paths.wrapperXml,
      text: xml,
      encoding: 'utf-8-no-bom',
      title: `Write the service definition ${paths.wrapperXml} (UTF-8 without BOM; shown below)`,
    },
    acl(paths.wrapperXml, 'exact', owners('R', false), 'it holds the broker password; the service wrapper reads it as the service account'),
    {
      kind: 'install-service',
      service: name,
      wrapperExe: paths.wrapperExe,
      title: `Install the service ${name} with "${paths.wrapperExe} install" if it is not installed (an installed one takes the new definition at its next start)`,
    },
    {
      kind: 'configure-service',
      service: name,
      scArguments: [
        `config "${name}" start= delayed-auto`,
        `failure "${name}" reset= ${RESTART_POLICY.resetAfterSeconds} actions= ${RESTART_POLICY.delaysSeconds.map((s) => `restart/${s * 1000}`).join('/')}`,
        `failureflag "${name}" 1`,
      ],
      title: `Set delayed automatic start and restart on failure after ${RESTART_POLICY.delaysSeconds.join(' s, ')} s, failure count reset after ${RESTART_POLICY.resetAfterSeconds / 60} min, also when the process exits with an error code (sc.exe config / failure / failureflag)`,
    },
    ...accountSteps(name, account, inputs.currentServiceAccount),
    {
      kind: 'start-service',
      service: name,
      ...(healthPort > 0 ? { healthUrl: `http://127.0.0.1:${healthPort}/health` } : {}),
      waitSeconds: HEALTH_WAIT_SECONDS,
      pausedForPinAdvice: `The card refused the PIN. Do not restart blindly: find the right PIN, then run install-signer.ps1 -UpdatePin. "${paths.nodeExe}" "${paths.pinStateJs}" show lists what the signer remembers.`,
      title: `Start ${name} (its self-test tries the PIN once, unless the card refused that PIN before) and wait up to ${HEALTH_WAIT_SECONDS} s for ${healthPort > 0 ? `http://127.0.0.1:${healthPort}/health` : 'it (health port 0: see the log)'} to leave "starting"`,
    },
  ];
  if (!inputs.skipDoctor) {
    steps.push({
      kind: 'run-doctor',
      command: [paths.nodeExe, paths.doctorJs],
      workingDirectory: paths.installDir,
      env: Object.fromEntries(env),
      title: `Run the doctor (${paths.doctorJs}, without --check-pin: it spends no PIN attempt) with the service's settings`,
    });
  }
  return steps;
}

function accountSteps(name: string, account: ServiceAccount, current: string | undefined): Step[] {
  const currentName = current && !/^(LocalSystem|\.\\LocalSystem|NT AUTHORITY\\SYSTEM)$/i.test(current) ? current : 'LocalSystem';
  if (currentName.toLowerCase() === account.name.toLowerCase()) return [];
  const obj = account.kind === 'LocalSystem' ? 'LocalSystem' : `"${account.name}"`;
  const scArguments =
    account.kind === 'User'
      ? []
      : [...(account.kind === 'Virtual' ? [`sidtype "${name}" unrestricted`] : []), `config "${name}" obj= ${obj} password= ""`];
  const extra = [
    account.needsPassword ? 'its password is asked for (not shown, not stored)' : '',
    account.needsLogonRight ? 'it is granted "Log on as a service"' : '',
  ]
    .filter(Boolean)
    .join('; ');
  return [
    {
      kind: 'set-service-account',
      service: name,
      account,
      scArguments,
      title: `Run ${name} as ${account.name} (${account.kind})${extra ? `; ${extra}` : ''}`,
    },
  ];
}

function forAccount(account: ServiceAccount, right: Right, inherit: boolean): Grant[] {
  return isSystem(account) ? [] : [{ principal: account.principal, right, inherit }];
}

function isSystem(account: ServiceAccount): boolean {
  return samePrincipal(account.principal, SYSTEM);
}

function requirePath(file: string, missing: string): Step {
  return { kind: 'require-path', path: file, missing, title: `Check that ${file} exists` };
}

/**
 * Who Windows gives access to new folders and files by default (C:\ lets Authenticated Users
 * modify what is created in it; %ProgramData% lets Users read). "exact" removes these besides the
 * inherited access, without a moment of wider access in between.
 */
export const BROAD_SIDS = {
  everyone: 'S-1-1-0',
  creatorOwner: 'S-1-3-0',
  interactive: 'S-1-5-4',
  authenticatedUsers: 'S-1-5-11',
  users: 'S-1-5-32-545',
} as const;

function acl(target: string, mode: 'exact' | 'add', grants: Grant[], why: string): Step {
  const removeSids = mode === 'exact' ? Object.values(BROAD_SIDS) : [];
  const what =
    mode === 'exact'
      ? `Set the access of ${target} to exactly ${words(grants)}, inherited access removed`
      : `Grant ${words(grants)} on ${target}`;
  return { kind: 'set-acl', path: target, mode, grants, removeSids, title: `${what} (${why})` };
}

const RIGHT_WORDS: Record<Right, string> = { F: 'full control', M: 'modify', RX: 'read', R: 'read' };

export function words(grants: Grant[]): string {
  return grants.map((g) => `${g.principal.label} ${RIGHT_WORDS[g.right]}${'sid' in g.principal ? ` (${g.principal.sid})` : ''}`).join(', ');
}
