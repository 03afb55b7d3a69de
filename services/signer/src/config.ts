import { hostname } from 'node:os';
import { commonSettings, loadConfig } from '@ceb179/config';

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  eportUrl: commonSettings.eportUrl,
  logLevel: commonSettings.logLevel,
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
  callTimeoutMs: { doc: 'Timeout of one call to the control (signing included)', format: 'nat', default: 15_000, env: 'CEB179_SIGNER_CALL_TIMEOUT_MS' },
  greetingTimeoutMs: {
    doc: "How long to wait for the control's greeting before sending anyway (the greeting is M in protocol.md)",
    format: 'nat',
    default: 3_000,
    env: 'CEB179_SIGNER_GREETING_TIMEOUT_MS',
  },
  prefetch: { doc: 'Sign jobs held locally; the control still signs one at a time', format: 'nat', default: 4, env: 'CEB179_SIGNER_PREFETCH' },
  healthPort: {
    doc: 'Loopback port of GET /health and GET /metrics (0 = any free port)',
    format: 'port',
    default: 9179,
    env: 'CEB179_SIGNER_HEALTH_PORT',
  },
  heartbeatIntervalMs: { doc: 'How often the signer reports itself to the cloud side', format: 'nat', default: 10_000, env: 'CEB179_SIGNER_HEARTBEAT_INTERVAL_MS' },
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
  controlRestartCommand: {
    doc: 'Optional shell command run when the breaker opens, e.g. restarting the E-Port control service',
    format: String,
    default: '',
    env: 'CEB179_SIGNER_CONTROL_RESTART_COMMAND',
  },
};

/** The doctor reads the same settings but needs the PIN only when asked to check it. */
export const signerSchema = schema;

export interface SignerConfig {
  amqpUrl: string;
  eportUrl: string;
  logLevel: string;
  cardPin: string;
  ebpCodes: string[];
  signerId: string;
  callTimeoutMs: number;
  greetingTimeoutMs: number;
  prefetch: number;
  healthPort: number;
  heartbeatIntervalMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  controlRestartCommand: string;
}

export function loadSignerConfig(env?: Record<string, string | undefined>): SignerConfig {
  return loadConfig(schema, env) as SignerConfig;
}
