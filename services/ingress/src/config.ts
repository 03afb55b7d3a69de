import { isIP } from 'node:net';
import { commonSettings, loadConfig, type ConfigOf } from '@ceb179/config';
import { metricsPortSetting } from '@ceb179/metrics';

/**
 * express's trust proxy, limited to what cannot be forged: false, a hop count, or the proxies'
 * addresses. `true` would take the left-most X-Forwarded-For entry, which any caller writes
 * itself, and so open the source allow-list to anyone.
 */
function validateTrustProxy(value: unknown): void {
  const text = String(value).trim();
  if (text === 'false' || text === '' || /^\d{1,2}$/.test(text)) return;
  if (text === 'true') {
    throw new Error(
      'true is refused: it trusts any X-Forwarded-For a caller sends; give the hop count of your load balancers (e.g. 1) or their addresses',
    );
  }
  for (const entry of text.split(',').map((s) => s.trim())) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    if (isIP(address) === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) {
      throw new Error(`"${entry}" is neither a hop count nor a proxy address or CIDR block`);
    }
  }
}

const schema = {
  amqpUrl: commonSettings.amqpUrl,
  databaseUrl: commonSettings.databaseUrl,
  redisUrl: commonSettings.redisUrl,
  logLevel: commonSettings.logLevel,
  metricsPort: metricsPortSetting(9464),
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
    format: validateTrustProxy,
    default: 'false',
    env: 'CEB179_INGRESS_TRUST_PROXY',
  },
  healthPort: {
    doc: 'Port of GET /healthz and /readyz, a listener apart from the customs-facing one (0 = any free port); never expose it to the internet',
    format: 'port',
    default: 8081,
    env: 'CEB179_INGRESS_HEALTH_PORT',
  },
  healthHost: {
    doc: 'Address the health listener binds to: loopback by default; in Kubernetes 0.0.0.0 (the pod network) for the kubelet, with no Service port for it',
    format: (value: unknown) => {
      if (isIP(String(value)) === 0) throw new Error('must be an IP address to bind to, e.g. 127.0.0.1 or 0.0.0.0');
    },
    default: '127.0.0.1',
    env: 'CEB179_INGRESS_HEALTH_HOST',
  },
  rateLimitPerSecond: {
    doc: 'Calls per second one source address may make, sustained (0 = no limit); customs calls once per order query, far below this',
    format: 'nat',
    default: 100,
    env: 'CEB179_INGRESS_RATE_LIMIT_PER_SECOND',
  },
  rateLimitBurst: {
    doc: 'Calls one source address may make at once above the sustained rate (a burst of customs audit calls)',
    format: 'nat',
    default: 1_000,
    env: 'CEB179_INGRESS_RATE_LIMIT_BURST',
  },
  maxConnections: {
    doc: 'Open connections the customs-facing listener accepts at once; more are dropped (0 = no cap)',
    format: 'nat',
    default: 1_024,
    env: 'CEB179_INGRESS_MAX_CONNECTIONS',
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
  groupedWriteLingerMs: {
    doc: 'How long the writes nobody waits for (the "handed to RabbitMQ" mark in the ledger, the Redis duplicate hint) may wait to be sent together with others, one statement per group: saves a round trip per callback under load (0 = each write alone). At most 1000: far below the outbox relay\'s 3 s minimum age, so the relay never re-publishes a callback whose mark is only waiting',
    format: function groupedWriteLinger(value: unknown) {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1_000)
        throw new Error('must be a whole number of ms from 0 to 1000');
    },
    default: 100,
    env: 'CEB179_INGRESS_GROUPED_WRITE_LINGER_MS',
  },
};

export type IngressConfig = ConfigOf<typeof schema>;

export function loadIngressConfig(env?: Record<string, string | undefined>): IngressConfig {
  return loadConfig(schema, env);
}

/** The schema itself, for the generated configuration reference (tools/config-reference). */
export const ingressSchema = schema;
