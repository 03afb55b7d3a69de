import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';

const schema = {
  logLevel: commonSettings.logLevel,
  port: {
    doc: 'HTTP listen port',
    format: 'port',
    default: 8090,
    env: 'CEB179_CUSTOMS_SIM_PORT',
  },
  host: {
    doc: 'Listen address; 0.0.0.0 to be reachable from other containers',
    format: String,
    default: '127.0.0.1',
    env: 'CEB179_CUSTOMS_SIM_HOST',
  },
  certFiles: {
    doc: 'Comma list of certificate files to register: eport-sim card files (JSON) or base64/PEM certificates',
    format: String,
    default: '',
    env: 'CEB179_CUSTOMS_SIM_CERT_FILES',
  },
  ebpCodes: {
    doc: 'Comma list of ebpCodes the certificates from CEB179_CUSTOMS_SIM_CERT_FILES are registered for; empty = any',
    format: 'ebp-code-list',
    default: [] as string[],
    env: 'CEB179_CUSTOMS_SIM_EBP_CODES',
  },
  rejectBadSignatures: {
    doc: 'Answer 20000 to an upload whose signature does not verify (real customs answers 10000 and checks later)',
    format: Boolean,
    default: false,
    env: 'CEB179_CUSTOMS_SIM_REJECT_BAD_SIGNATURES',
  },
  strict: {
    doc: 'Strict customs: signValue must be canonical base64 and bad signatures are refused at once (20000)',
    format: Boolean,
    default: false,
    env: 'CEB179_CUSTOMS_SIM_STRICT',
  },
  certWaitMs: {
    doc: 'How long to keep looking for a certificate file that does not exist yet (eport-sim writes it on its first start)',
    format: 'nat',
    default: 120000,
    env: 'CEB179_CUSTOMS_SIM_CERT_WAIT_MS',
  },
};

export type CustomsSimConfig = Omit<ConfigOf<typeof schema>, 'certFiles'> & {
  /** CEB179_CUSTOMS_SIM_CERT_FILES split at the commas. */
  certFiles: string[];
};

export function loadCustomsSimConfig(env?: Record<string, string | undefined>): CustomsSimConfig {
  const raw = loadConfig(schema, env);
  return {
    ...raw,
    certFiles: raw.certFiles
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
  };
}

/** The schema itself, for the generated configuration reference (tools/config-reference). */
export const customsSimSchema = schema;
