import { Queues } from '@ceb179/contracts';
import { createPool } from '@ceb179/db';
import { ComponentGroup, type Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { Broker, declareWorkQueue } from '@ceb179/mq';
import { CustomsClient } from './clients/customs.client';
import type { ReporterConfig } from './config';
import { RequestRepository } from './data-access/request.repository';
import { UploadRequest } from './domain/upload-request';
import { SignatureConsumer } from './entry-points/signature.consumer';

/** Wires the reporter: signatures queue -> ledger claim -> customs upload -> ledger. */
export function composeReporter(config: ReporterConfig, logger: Logger): Component {
  const pool = createPool(config.databaseUrl, { applicationName: 'ceb179-reporter' });
  const broker = new Broker({
    url: config.amqpUrl,
    logger,
    connectionName: 'ceb179-reporter',
    declareTopology: (channel) => declareWorkQueue(channel, Queues.signatures),
  });
  const upload = new UploadRequest(
    new RequestRepository(pool),
    new CustomsClient(config.customsUrl, config.uploadTimeoutMs),
    { maxTransportRetries: config.maxTransportRetries },
    logger,
  );
  const consumer = new SignatureConsumer(broker, upload, config.prefetch);
  return new ComponentGroup([
    { start: () => pool.query('SELECT 1').then(() => undefined), stop: () => pool.end() },
    { start: () => broker.start(), stop: () => broker.stop() },
    { start: () => consumer.start(), stop: () => undefined },
  ]);
}
