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
};

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
}

export function loadSignerConfig(env?: Record<string, string | undefined>): SignerConfig {
  return loadConfig(schema, env) as SignerConfig;
}
