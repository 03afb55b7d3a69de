import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';
import { metricsPortSetting } from '@ceb179/metrics';

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  databaseUrl: commonSettings.databaseUrl,
  redisUrl: commonSettings.redisUrl,
  logLevel: commonSettings.logLevel,
  port: {
    doc: 'Port of the operator console (page, JSON API, /healthz, /readyz)',
    format: 'port',
    default: 8090,
    env: 'CEB179_CONSOLE_PORT',
  },
  metricsPort: metricsPortSetting(9467),
  token: {
    doc: 'The console credential: HTTP basic auth with any user name and this as password, or "Authorization: Bearer <token>"; give it as CEB179_CONSOLE_TOKEN_FILE from a secret',
    format: 'required-secret',
    default: '',
    env: 'CEB179_CONSOLE_TOKEN',
    sensitive: true,
  },
};

/** The console's settings, for the configuration reference (docs/configuration.md). */
export const consoleSchema = schema;

export type ConsoleConfig = ConfigOf<typeof schema>;

export function loadConsoleConfig(env?: Record<string, string | undefined>): ConsoleConfig {
  return loadConfig(schema, env);
}
