import { Redis } from 'ioredis';
import { createPool } from '@ceb179/db';
import { ComponentGroup, type Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { bounded, OpsServer, ServiceMetrics } from '@ceb179/metrics';
import { Broker, declareCallbackPublishing } from '@ceb179/mq';
import { BrokerCallbackPublisher } from './clients/callback.publisher';
import type { IngressConfig } from './config';
import { CallbackRepository } from './data-access/callback.repository';
import { DuplicateCache } from './data-access/duplicate.cache';
import { CallbackIntake } from './domain/callback-intake.use-case';
import { OutboxRelay } from './domain/outbox-relay';
import { within } from './domain/within';
import { callbackMetrics } from './entry-points/http/callback-metrics.middleware';
import { HttpServer } from './entry-points/http/http.server';
import { parseAllowList } from './entry-points/http/source-allow-list.middleware';

const HEALTH_PROBE_TIMEOUT_MS = 1_000;
const STARTUP_PROBE_TIMEOUT_MS = 3_000;

export interface Ingress extends Component {
  readonly port: number;
  readonly healthPort: number;
}

/** Wires ingress: Postgres ledger + Redis hint + RabbitMQ hand-off behind the HTTP endpoint. */
export function composeIngress(config: IngressConfig, logger: Logger): Ingress {
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-ingress' });
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    // Bounded everywhere: a stalled Redis fails commands instead of holding them, nothing queues while it is away.
    commandTimeout: 1_000,
    connectTimeout: 2_000,
    keepAlive: 10_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined); // Redis is only a hint here; its outages are logged by the checks
  const broker = new Broker({
    url: config.amqpUrl,
    logger,
    connectionName: 'ceb179-ingress',
    declareTopology: declareCallbackPublishing,
  });
  const repository = new CallbackRepository(pool, config.groupedWriteLingerMs);
  const publisher = new BrokerCallbackPublisher(broker);
  const intake = new CallbackIntake(
    repository,
    new DuplicateCache(redis, config.duplicateHintTimeoutMs, config.groupedWriteLingerMs),
    publisher,
    logger,
    {
      answerBudgetMs: config.answerBudgetMs,
    },
  );
  const relay = new OutboxRelay(repository, publisher, () => broker.connected, config.relayIntervalMs, logger);
  const metrics = new ServiceMetrics('ingress');
  metrics.gauge(
    'ceb179_outbox_backlog',
    'Calls recorded in the ledger and not yet handed to RabbitMQ (the outbox relay publishes them)',
    [],
    async (gauge) => {
      const result = await bounded(() =>
        pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ceb179.request WHERE published_at IS NULL'),
      );
      if (result) gauge.set(result.rows[0]?.n ?? 0);
    },
  );
  const ops = new OpsServer({
    port: config.metricsPort,
    metrics,
    logger,
    // Ready while a call can be recorded: in the ledger, or in RabbitMQ when the ledger is down.
    readiness: async () => ({
      ledgerOrBroker: broker.connected || (await within(pool.query('SELECT 1'), HEALTH_PROBE_TIMEOUT_MS)).kind === 'settled',
    }),
  });
  const http = new HttpServer({
    observeCallbacks: callbackMetrics(metrics),
    port: config.port,
    allowedSources: parseAllowList(config.allowedSources),
    trustProxy: config.trustProxy,
    bodyLimitBytes: config.bodyLimitBytes,
    healthPort: config.healthPort,
    healthHost: config.healthHost,
    rateLimitPerSecond: config.rateLimitPerSecond,
    rateLimitBurst: config.rateLimitBurst,
    maxConnections: config.maxConnections,
    intake,
    logger,
    // Bounded: a stalled Postgres must not hang the probe (the load balancer would take it for dead).
    health: async () => ({
      database: (await within(pool.query('SELECT 1'), HEALTH_PROBE_TIMEOUT_MS)).kind === 'settled',
      broker: broker.connected,
      redis: redis.status === 'ready',
    }),
  });

  if (config.allowedSources.length === 0) {
    logger.warn(
      { alert: 'config' },
      "CEB179_INGRESS_ALLOWED_SOURCES is empty: anyone who reaches this port may call /platDataOpen; set customs' source addresses in production",
    );
  }
  const group = new ComponentGroup([
    ops,
    // Not awaited: a stalled Redis would hold start-up in its ready check, and it is only a hint.
    {
      start: () => void redis.connect().catch(() => logger.warn('Redis unreachable; deduplicating in Postgres only')),
      stop: () => void redis.disconnect(),
    },
    // Postgres down at start is survivable: calls are then recorded in RabbitMQ (see CallbackIntake).
    {
      start: async () => {
        const ledger = await within(pool.query('SELECT 1'), STARTUP_PROBE_TIMEOUT_MS);
        if (ledger.kind !== 'settled') logger.warn('ledger unreachable at start; recording calls in RabbitMQ until it is back');
      },
      stop: () => pool.end(),
    },
    // The broker may be down at start: ingress still answers and records; the relay catches up.
    { start: () => broker.startInBackground(), stop: () => broker.stop() },
    { start: () => relay.start(), stop: () => relay.stop() },
    {
      start: () => http.start(),
      stop: async () => {
        await http.stop();
        await intake.drain();
      },
    },
  ]);
  return {
    get port() {
      return http.port;
    },
    get healthPort() {
      return http.healthPort;
    },
    start: () => group.start(),
    stop: () => group.stop(),
  };
}
