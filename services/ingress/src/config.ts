import { commonSettings, loadConfig } from '@ceb179/config';

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  databaseUrl: commonSettings.databaseUrl,
  redisUrl: commonSettings.redisUrl,
  logLevel: commonSettings.logLevel,
  port: { doc: 'Port of the customs callback endpoint /platDataOpen', format: 'port', default: 8080, env: 'CEB179_INGRESS_PORT' },
  bodyLimitBytes: {
    doc: 'Largest callback body accepted; a real openReq is under 300 bytes',
    format: 'nat',
    default: 16_384,
    env: 'CEB179_INGRESS_BODY_LIMIT_BYTES',
  },
  allowedSources: {
    doc: "Comma list of addresses or CIDR blocks allowed to call /platDataOpen (customs' callback sources); empty = anyone",
    format: 'string-list',
    default: [] as string[],
    env: 'CEB179_INGRESS_ALLOWED_SOURCES',
  },
  trustProxy: {
    doc: 'Express trust-proxy setting when ingress sits behind a load balancer: false, a hop count, or a comma list of proxy addresses/CIDRs',
    format: String,
    default: 'false',
    env: 'CEB179_INGRESS_TRUST_PROXY',
  },
  relayIntervalMs: {
    doc: 'How often callbacks recorded while RabbitMQ was unreachable are re-published',
    format: 'nat',
    default: 2_000,
    env: 'CEB179_INGRESS_RELAY_INTERVAL_MS',
  },
  answerBudgetMs: {
    doc: 'Every callback is answered within this many ms: if the ledger has not confirmed by then (less a share kept for RabbitMQ), the call is recorded through RabbitMQ',
    format: 'nat',
    default: 1_500,
    env: 'CEB179_INGRESS_ANSWER_BUDGET_MS',
  },
  duplicateHintTimeoutMs: {
    doc: 'How long the Redis duplicate check may take before it is skipped (Redis is only a hint)',
    format: 'nat',
    default: 100,
    env: 'CEB179_INGRESS_DUPLICATE_HINT_TIMEOUT_MS',
  },
};

export interface IngressConfig {
  amqpUrl: string;
  databaseUrl: string;
  redisUrl: string;
  logLevel: string;
  port: number;
  bodyLimitBytes: number;
  relayIntervalMs: number;
  answerBudgetMs: number;
  duplicateHintTimeoutMs: number;
  allowedSources: string[];
  trustProxy: string;
}

export function loadIngressConfig(env?: Record<string, string | undefined>): IngressConfig {
  return loadConfig(schema, env) as IngressConfig;
}
