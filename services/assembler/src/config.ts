import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';
import { metricsPortSetting } from '@ceb179/metrics';

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  databaseUrl: commonSettings.databaseUrl,
  logLevel: commonSettings.logLevel,
  maxHandlerFailures: commonSettings.maxHandlerFailures,
  outageRetryMaxDelayMs: commonSettings.outageRetryMaxDelayMs,
  metricsPort: metricsPortSetting(9465),
  sourceSchema: commonSettings.sourceSchema,
  timeZone: commonSettings.timeZone,
  signJobKey: commonSettings.signJobKey,
  sourceDatabaseUrl: {
    doc: 'Postgres URL of the source views when they live in another database (e.g. a read replica); empty = CEB179_DATABASE_URL',
    format: String,
    default: '',
    env: 'CEB179_SOURCE_DATABASE_URL',
    sensitive: true,
  },
  lookupRetries: {
    doc: 'Further look-ups of an order the source does not (yet) have, spread over the deadline, before giving up (replicas lag)',
    format: 'nat',
    default: 3,
    env: 'CEB179_ASSEMBLER_LOOKUP_RETRIES',
  },
  lookupRetryDelayMs: {
    doc: 'Delay before the first repeated look-up; doubles each time',
    format: 'nat',
    default: 3_000,
    env: 'CEB179_ASSEMBLER_LOOKUP_RETRY_DELAY_MS',
  },
  prefetch: { doc: 'Callbacks assembled concurrently', format: 'nat', default: 16, env: 'CEB179_ASSEMBLER_PREFETCH' },
};

export type AssemblerConfig = ConfigOf<typeof schema>;

export function loadAssemblerConfig(env?: Record<string, string | undefined>): AssemblerConfig {
  return loadConfig(schema, env);
}

/** The schema itself, for the generated configuration reference (tools/config-reference). */
export const assemblerSchema = schema;
