import type { Principal, ServiceAccount } from './accounts';
import type { RestartPolicy } from './winsw-xml';

// The plan's types, apart from the planner, so that steps.ts (which the planner calls) can use them
// without an import cycle.

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
    | {
        kind: 'pin-file';
        path: string;
        stagingPath: string;
        rewrite: boolean;
        grants: Grant[];
        removeSids: string[];
        checkCommand: string[];
      }
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
