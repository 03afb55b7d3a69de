import { Redis } from 'ioredis';
import { createPool } from '@ceb179/db';
import { ComponentGroup, type Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { Broker, declareHeartbeatQueue, declareSignatureConsumption } from '@ceb179/mq';
import { CustomsClient } from './clients/customs.client';
import type { ReporterConfig } from './config';
import { RequestRepository } from './data-access/request.repository';
import { SignStringRepository } from './data-access/sign-string.repository';
import { SignerRegistry } from './data-access/signer-registry';
import { HeartbeatConsumer } from './entry-points/heartbeat.consumer';
import { KnownCertificates } from './domain/known-certificates';
import { SignatureCheck } from './domain/signature-check';
import { UploadRequest } from './domain/upload-request';
import { SignatureConsumer } from './entry-points/signature.consumer';

/** Wires the reporter: signatures queue -> ledger claim -> customs upload -> ledger. */
export function composeReporter(config: ReporterConfig, logger: Logger): Component {
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-reporter' });
  const broker = new Broker({
    url: config.amqpUrl,
    logger,
    connectionName: 'ceb179-reporter',
    declareTopology: async (channel) => {
      await declareSignatureConsumption(channel);
      await declareHeartbeatQueue(channel);
    },
  });
  const upload = new UploadRequest(
    new RequestRepository(pool),
    new CustomsClient(config.customsUrl, config.uploadTimeoutMs),
    { maxTransportRetries: config.maxTransportRetries },
    logger,
  );
  const certificates = new KnownCertificates(config.certificateFingerprints);
  const signatureCheck = new SignatureCheck(new SignStringRepository(pool), certificates, logger);
  const consumer = new SignatureConsumer(broker, upload, config.prefetch, signatureCheck);
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined); // heartbeats are best effort; uploads never depend on Redis
  const heartbeats = new HeartbeatConsumer(broker, new SignerRegistry(redis), logger, certificates);
  return new ComponentGroup([
    { start: () => redis.connect().catch(() => logger.warn('Redis unreachable; signer heartbeats are not stored')), stop: () => void redis.disconnect() },
    { start: () => pool.query('SELECT 1').then(() => undefined), stop: () => pool.end() },
    { start: () => broker.start(), stop: () => broker.stop() },
    { start: () => consumer.start(), stop: () => undefined },
    { start: () => heartbeats.start(), stop: () => undefined },
  ]);
}
