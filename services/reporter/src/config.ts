import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';
import { metricsPortSetting } from '@ceb179/metrics';

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  databaseUrl: commonSettings.databaseUrl,
  redisUrl: commonSettings.redisUrl,
  logLevel: commonSettings.logLevel,
  maxHandlerFailures: commonSettings.maxHandlerFailures,
  outageRetryMaxDelayMs: commonSettings.outageRetryMaxDelayMs,
  customsUrl: commonSettings.customsUrl,
  uploadTimeoutMs: { doc: 'Timeout of one upload to customs', format: 'nat', default: 15_000, env: 'CEB179_REPORTER_UPLOAD_TIMEOUT_MS' },
  maxTransportRetries: {
    doc: 'Uploads retried after transport faults (timeouts, refused connections, HTTP 5xx) before the request is given up',
    format: 'nat',
    default: 60,
    env: 'CEB179_REPORTER_MAX_TRANSPORT_RETRIES',
  },
  prefetch: { doc: 'Uploads in flight at once', format: 'nat', default: 8, env: 'CEB179_REPORTER_PREFETCH' },
  certificateFingerprints: {
    doc: "Comma list of SHA-256 fingerprints of the card certificates signatures may verify against; empty = learn each card's certificate from its signer's heartbeats (first one per certNo kept)",
    format: 'string-list',
    default: [] as string[],
    env: 'CEB179_REPORTER_CERTIFICATE_FINGERPRINTS',
  },
  metricsPort: metricsPortSetting(9466),
};

export type ReporterConfig = ConfigOf<typeof schema>;

export function loadReporterConfig(env?: Record<string, string | undefined>): ReporterConfig {
  return loadConfig(schema, env);
}

/** The schema itself, for the generated configuration reference (tools/config-reference). */
export const reporterSchema = schema;
