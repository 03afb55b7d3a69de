/**
 * The CEB179_* settings shared by the services (docs/architecture.md §6; every setting is listed in
 * docs/configuration.md). Each service composes its schema from the pieces it needs, so an unused
 * variable is never required.
 */
export const commonSettings = {
  amqpUrl: {
    // No default: a credential is never built in (the demo and the tests set it explicitly).
    doc: "RabbitMQ URL, vhost included, with this service's own user (deploy/rabbitmq/permissions.json)",
    format: 'amqp-url',
    default: '',
    env: 'CEB179_AMQP_URL',
    sensitive: true,
  },
  databaseUrl: {
    // No default: a credential is never built in (the demo and the tests set it explicitly).
    doc: "Postgres URL of the ledger (and of the source views), with this service's own role (scripts/postgres-roles.sh)",
    format: 'postgres-url',
    default: '',
    env: 'CEB179_DATABASE_URL',
    sensitive: true,
  },
  redisUrl: {
    doc: 'Redis URL, db index included',
    format: 'redis-url',
    default: 'redis://127.0.0.1:6379/0',
    env: 'CEB179_REDIS_URL',
    sensitive: true,
  },
  logLevel: {
    doc: 'pino log level',
    format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    env: 'CEB179_LOG_LEVEL',
  },
  sourceSchema: {
    doc: 'Postgres schema holding the payment, payment_order and order_goods relations',
    format: 'identifier',
    default: 'ceb_source',
    env: 'CEB179_SOURCE_SCHEMA',
  },
  timeZone: {
    doc: 'Time zone of tradingTime',
    format: 'time-zone',
    default: 'Asia/Shanghai',
    env: 'CEB179_TIMEZONE',
  },
  customsUrl: {
    doc: 'Customs upload URL; the default is the customs TEST endpoint, production must be set explicitly',
    format: 'http-url',
    default: 'https://swapptest.singlewindow.cn/ceb2grab/grab/realTimeDataUpload',
    env: 'CEB179_CUSTOMS_URL',
  },
  signJobKey: {
    doc: 'Key of the HMAC-SHA256 that authenticates sign jobs; held by the assembler and the signers only (secret, at least 32 characters; prefer CEB179_SIGN_JOB_KEY_FILE)',
    format: 'hmac-key',
    default: '',
    env: 'CEB179_SIGN_JOB_KEY',
    sensitive: true,
  },
  eportUrl: {
    doc: "The E-Port control's WebSocket URL",
    format: 'ws-url',
    default: 'ws://127.0.0.1:61232',
    env: 'CEB179_EPORT_URL',
  },
  maxHandlerFailures: {
    doc: 'Failures in a row of one message (a bug or a message the code cannot handle, never a dependency outage) before it is dead-lettered',
    format: 'nat',
    default: 20,
    env: 'CEB179_MAX_HANDLER_FAILURES',
  },
  outageRetryMaxDelayMs: {
    doc: 'Longest back-off between retries of a message whose handler could not reach a dependency (Postgres, Redis, a timeout); retried for as long as the outage lasts',
    format: 'nat',
    default: 30_000,
    env: 'CEB179_OUTAGE_RETRY_MAX_DELAY_MS',
  },
} as const;
