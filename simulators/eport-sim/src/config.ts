import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';

const schema = {
  logLevel: commonSettings.logLevel,
  port: {
    doc: 'WebSocket listen port (the real control uses 61232)',
    format: 'port',
    default: 61232,
    env: 'CEB179_EPORT_SIM_PORT',
  },
  host: {
    doc: 'Listen address; 0.0.0.0 to be reachable from other containers',
    format: String,
    default: '127.0.0.1',
    env: 'CEB179_EPORT_SIM_HOST',
  },
  cardFile: {
    doc: 'JSON file holding the soft card (SoftCard.toJSON()); created on first start. Empty = a throw-away card',
    format: String,
    default: '',
    env: 'CEB179_EPORT_SIM_CARD_FILE',
  },
  algorithm: {
    doc: 'Key algorithm of a newly created card',
    format: ['RSA', 'SM2'] as const,
    default: 'RSA',
    env: 'CEB179_EPORT_SIM_ALGORITHM',
  },
  pin: {
    doc: 'PIN of a newly created card (an existing card file keeps its own PIN)',
    format: String,
    default: '',
    env: 'CEB179_EPORT_SIM_PIN',
    sensitive: true,
  },
  latencyMs: {
    doc: 'Delay before each signature is returned',
    format: 'nat',
    default: 0,
    env: 'CEB179_EPORT_SIM_LATENCY_MS',
  },
  signatureFormat: {
    doc: 'How the signature is written: canonical, crlf-lines (64-character CRLF lines), pem (BEGIN/END lines) or whitespace',
    format: ['canonical', 'crlf-lines', 'pem', 'whitespace'] as const,
    default: 'canonical',
    env: 'CEB179_EPORT_SIM_SIGNATURE_FORMAT',
  },
  certificateFormat: {
    doc: 'How the signing certificate is written (same choices as the signature)',
    format: ['canonical', 'crlf-lines', 'pem', 'whitespace'] as const,
    default: 'canonical',
    env: 'CEB179_EPORT_SIM_CERTIFICATE_FORMAT',
  },
  certNoFormat: {
    doc: 'How certNo is written: lower, upper, leading-zeros or empty',
    format: ['lower', 'upper', 'leading-zeros', 'empty'] as const,
    default: 'lower',
    env: 'CEB179_EPORT_SIM_CERTNO_FORMAT',
  },
  greetingDelayMs: {
    doc: 'Delay before the greeting; -1 = no greeting at all',
    format: 'int',
    default: 0,
    env: 'CEB179_EPORT_SIM_GREETING_DELAY_MS',
  },
  answerPings: {
    doc: 'Answer WebSocket pings (false: like a control that never does)',
    format: Boolean,
    default: true,
    env: 'CEB179_EPORT_SIM_ANSWER_PINGS',
  },
  signEncoding: {
    doc: 'Bytes the card signs: utf8 (right) or gbk (a misbehaving control, for the self-test)',
    format: ['utf8', 'gbk'] as const,
    default: 'utf8',
    env: 'CEB179_EPORT_SIM_SIGN_ENCODING',
  },
  maxWrongPins: {
    doc: 'Consecutive wrong PINs that lock the card',
    format: 'nat',
    default: 3,
    env: 'CEB179_EPORT_SIM_MAX_WRONG_PINS',
  },
};

export type EportSimConfig = ConfigOf<typeof schema>;

export function loadEportSimConfig(env?: Record<string, string | undefined>): EportSimConfig {
  return loadConfig(schema, env);
}

/** The schema itself, for the generated configuration reference (tools/config-reference). */
export const eportSimSchema = schema;
