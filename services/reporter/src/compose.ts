import { Redis } from 'ioredis';
import { createPool } from '@ceb179/db';
import { ComponentGroup, type Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { answers, OpsServer, ServiceMetrics } from '@ceb179/metrics';
import { Broker, declareHeartbeatQueue, declareResendConsumption, declareSignatureConsumption } from '@ceb179/mq';
import { CustomsClient } from './clients/customs.client';
import type { ReporterConfig } from './config';
import { MeteredRequestRepository } from './data-access/metered-request.repository';
import { registerSystemGauges } from './entry-points/system.gauges';
import { SignStringRepository } from './data-access/sign-string.repository';
import { SignerRegistry } from './data-access/signer.registry';
import { HeartbeatConsumer } from './entry-points/heartbeat.consumer';
import { KnownCertificates } from './domain/known-certificates';
import { SignatureCheck } from './domain/signature-check';
import { UploadRequest } from './domain/upload-request.use-case';
import { SignatureConsumer } from './entry-points/signature.consumer';
import { ResendConsumer } from './entry-points/resend.consumer';

/** Room after the upload timeout for recording the attempt and the result (each bounded by the pool). */
const STALE_CLAIM_MARGIN_MS = 15_000;

/** Wires the reporter: signatures queue -> ledger claim -> customs upload -> ledger. */
export function composeReporter(config: ReporterConfig, logger: Logger): Component {
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-reporter' });
  const broker = new Broker({
    url: config.amqpUrl,
    logger,
    connectionName: 'ceb179-reporter',
    maxHandlerFailures: config.maxHandlerFailures,
    outageRetryMaxDelayMs: config.outageRetryMaxDelayMs,
    declareTopology: async (channel) => {
      await declareSignatureConsumption(channel);
      await declareResendConsumption(channel);
      await declareHeartbeatQueue(channel);
    },
  });
  const metrics = new ServiceMetrics('reporter');
  const customs = new CustomsClient(config.customsUrl, config.uploadTimeoutMs);
  const upload = new UploadRequest(
    // A claim is stale once its holder must have given up: the upload timeout plus the ledger writes after it.
    new MeteredRequestRepository(pool, config.uploadTimeoutMs + STALE_CLAIM_MARGIN_MS, metrics),
    customs,
    { maxTransportRetries: config.maxTransportRetries },
    logger,
  );
  const certificates = new KnownCertificates(config.certificateFingerprints);
  const signatureCheck = new SignatureCheck(new SignStringRepository(pool), certificates, logger);
  const consumer = new SignatureConsumer(broker, upload, config.prefetch, signatureCheck);
  const resends = new ResendConsumer(broker, upload);
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    commandTimeout: 2_000,
    connectTimeout: 5_000,
    keepAlive: 10_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined); // heartbeats are best effort; uploads never depend on Redis
  const heartbeats = new HeartbeatConsumer(broker, new SignerRegistry(redis), logger, certificates);
  registerSystemGauges(metrics, pool, redis, broker);
  const ops = new OpsServer({
    port: config.metricsPort,
    metrics,
    logger,
    readiness: async () => ({
      database: await answers(() => pool.query('SELECT 1')),
      ...broker.readiness(),
    }),
  });
  return new ComponentGroup([
    ops,
    // Not awaited: a stalled Redis would hold start-up in its ready check, and uploads never depend on it.
    {
      start: () => void redis.connect().catch(() => logger.warn('Redis unreachable; signer heartbeats are not stored')),
      stop: () => void redis.disconnect(),
    },
    { start: () => pool.query('SELECT 1').then(() => undefined), stop: () => pool.end() },
    { start: () => undefined, stop: () => customs.close() },
    { start: () => broker.start(), stop: () => broker.stop() },
    { start: () => consumer.start(), stop: () => undefined },
    { start: () => resends.start(), stop: () => undefined },
    { start: () => heartbeats.start(), stop: () => undefined },
  ]);
}
