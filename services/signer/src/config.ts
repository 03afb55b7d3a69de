import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';
import { AppError } from '@ceb179/errors';

/**
 * Where the signer keeps what must survive a restart (PIN refusals): %ProgramData%\ceb179\signer
 * on Windows (the service runs as LocalSystem or a service account), /var/lib/ceb179/signer for
 * root elsewhere, else $XDG_STATE_HOME (or ~/.local/state)/ceb179/signer.
 */
export function defaultStateDir(
  platform: NodeJS.Platform = process.platform,
  env: Record<string, string | undefined> = process.env,
): string {
  if (platform === 'win32') return path.win32.join(env.ProgramData ?? 'C:\\ProgramData', 'ceb179', 'signer');
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/ceb179/signer';
  return path.join(env.XDG_STATE_HOME ?? path.join(homedir(), '.local', 'state'), 'ceb179', 'signer');
}

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  eportUrl: commonSettings.eportUrl,
  logLevel: commonSettings.logLevel,
  signJobKey: commonSettings.signJobKey,
  cardPin: {
    doc: "The operator card's PIN (secret). Prefer CEB179_CARD_PIN_FILE pointing at a file only the service account can read",
    format: 'required-secret',
    default: '',
    env: 'CEB179_CARD_PIN',
    sensitive: true,
  },
  ebpCodes: {
    doc: 'Comma list of ebpCodes this card signs for; empty = every ebpCode no other card is bound to',
    format: 'ebp-code-list',
    default: [] as string[],
    env: 'CEB179_SIGNER_EBP_CODES',
  },
  signerId: { doc: 'Name of this signer in heartbeats and the ledger', format: String, default: hostname(), env: 'CEB179_SIGNER_ID' },
  callTimeoutMs: {
    doc: 'Timeout of one call to the control (signing included)',
    format: 'nat',
    default: 15_000,
    env: 'CEB179_SIGNER_CALL_TIMEOUT_MS',
  },
  greetingTimeoutMs: {
    doc: "How long to wait for the control's greeting before sending anyway (the greeting is one-source in docs/protocol.md §4)",
    format: 'nat',
    default: 3_000,
    env: 'CEB179_SIGNER_GREETING_TIMEOUT_MS',
  },
  deadlineGraceMs: {
    // Not 0: a request held up past customs' two minutes (a card PC restarting, a broker outage) is
    // still uploaded, marked late, as before; only jobs older than this are refused as stale.
    doc: "How long after a request's deadline (customs' two minutes) its sign job is still signed; older jobs are refused as stale or replayed",
    format: 'nat',
    default: 3_600_000,
    env: 'CEB179_SIGNER_DEADLINE_GRACE_MS',
  },
  prefetch: {
    doc: 'Sign jobs held locally; the control still signs one at a time',
    format: 'nat',
    default: 4,
    env: 'CEB179_SIGNER_PREFETCH',
  },
  healthPort: {
    doc: 'Loopback port of GET /health and GET /metrics (0 = any free port)',
    format: 'port',
    default: 9179,
    env: 'CEB179_SIGNER_HEALTH_PORT',
  },
  heartbeatIntervalMs: {
    doc: 'How often the signer reports itself to the cloud side',
    format: 'nat',
    default: 10_000,
    env: 'CEB179_SIGNER_HEARTBEAT_INTERVAL_MS',
  },
  breakerThreshold: {
    doc: 'Consecutive reader/control faults (50070, 50200, unreachable) that pause consumption',
    format: 'nat',
    default: 3,
    env: 'CEB179_SIGNER_BREAKER_THRESHOLD',
  },
  breakerCooldownMs: {
    doc: 'Pause before the first PIN-free probe of the card after the breaker opens; doubles up to 5 minutes',
    format: 'nat',
    default: 15_000,
    env: 'CEB179_SIGNER_BREAKER_COOLDOWN_MS',
  },
  stateDir: {
    doc: 'Folder on the card PC where the signer remembers PIN refusals across restarts (never the PIN). Default: %ProgramData%\\ceb179\\signer on Windows, /var/lib/ceb179/signer as root, ~/.local/state/ceb179/signer otherwise',
    format: String,
    default: '',
    env: 'CEB179_SIGNER_STATE_DIR',
  },
  allowRemoteControl: {
    doc: 'Allow CEB179_EPORT_URL to name another machine. Off: the PIN only ever goes to this machine (loopback). Only for a simulated control in another container',
    format: Boolean,
    default: false,
    env: 'CEB179_SIGNER_ALLOW_REMOTE_CONTROL',
  },
  controlKeepAliveMs: {
    doc: 'WebSocket ping to the control every this many ms while idle; 0 = off (real controls are not known to answer pings; call time-outs detect a dead control)',
    format: 'nat',
    default: 0,
    env: 'CEB179_SIGNER_CONTROL_KEEPALIVE_MS',
  },
  signingFaultRetryMs: {
    doc: "After the card's signatures stopped verifying: wait this long before the next self-test (doubles up to 10 minutes)",
    format: 'nat',
    default: 60_000,
    env: 'CEB179_SIGNER_SIGNING_FAULT_RETRY_MS',
  },
  controlRestartCommand: {
    doc: 'Optional shell command run when the breaker opens, e.g. restarting the E-Port control service',
    format: String,
    default: '',
    env: 'CEB179_SIGNER_CONTROL_RESTART_COMMAND',
  },
};

/** The doctor reads the same settings but needs the PIN only when asked to check it. */
export const signerSchema = schema;

export type SignerConfig = ConfigOf<typeof schema>;

export function loadSignerConfig(env?: Record<string, string | undefined>): SignerConfig {
  const config = loadConfig(schema, env);
  assertControlIsLocal(config);
  return { ...config, stateDir: config.stateDir || defaultStateDir(process.platform, env ?? process.env) };
}

/** The PIN travels to the control in clear: only to this machine, unless explicitly allowed. */
export function assertControlIsLocal(config: Pick<SignerConfig, 'eportUrl' | 'allowRemoteControl'>): void {
  if (config.allowRemoteControl) return;
  const host = new URL(config.eportUrl).hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  if (!loopback) {
    throw new AppError(
      'CONFIG',
      `CEB179_EPORT_URL: ${host} is not this machine; the card PIN is sent to the control in clear, so only a loopback control (ws://127.0.0.1:61232) is allowed. Set CEB179_SIGNER_ALLOW_REMOTE_CONTROL=true only for a simulated control`,
    );
  }
}
