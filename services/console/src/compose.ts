import { Redis } from 'ioredis';
import { createPool } from '@ceb179/db';
import { ComponentGroup, type Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { answers, OpsServer, ServiceMetrics } from '@ceb179/metrics';
import { AmqpResendPublisher } from '@ceb179/operator';
import type { ConsoleConfig } from './config';
import { OperatorView } from './domain/operator-view';
import { ConsoleServer } from './entry-points/http/console.server';

/** Wires the console: ledger pool, Redis (heartbeats), re-send publisher, HTTP server. */
export function composeConsole(config: ConsoleConfig, logger: Logger): Component {
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-console', max: 4 });
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 5_000,
  });
  redis.on('error', () => undefined); // the signer cards say so; the rest of the page works without Redis
  const view = new OperatorView(pool, redis, new AmqpResendPublisher(config.amqpUrl, 'ceb179-console'));
  const server = new ConsoleServer({
    port: config.port,
    token: config.token,
    view,
    logger,
    ready: async () => ({ database: await answers(() => pool.query('SELECT 1')), redis: await answers(() => redis.ping()) }),
  });
  const ops = new OpsServer({
    port: config.metricsPort,
    metrics: new ServiceMetrics('console'),
    logger,
    readiness: async () => ({ database: await answers(() => pool.query('SELECT 1')) }),
  });
  return new ComponentGroup([
    ops,
    {
      start: () => redis.connect().catch(() => logger.warn('Redis unreachable; signer cards are not shown until it is back')),
      stop: () => void redis.disconnect(),
    },
    { start: () => pool.query('SELECT 1').then(() => undefined), stop: () => pool.end() },
    server,
  ]);
}
