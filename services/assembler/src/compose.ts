import { createPool } from '@ceb179/db';
import { ComponentGroup, type Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { answers, OpsServer, ServiceMetrics } from '@ceb179/metrics';
import { Broker, declareCallbackConsumption, declareSignJobRouting } from '@ceb179/mq';
import { SignJobPublisher } from './clients/sign-job.publisher';
import type { AssemblerConfig } from './config';
import { PaymentRepository } from './data-access/payment.repository';
import { RequestRepository } from './data-access/request.repository';
import { AssembleRequest } from './domain/assemble-request.use-case';
import { CallbackConsumer } from './entry-points/callback.consumer';

/** Wires the assembler: callbacks queue -> ledger + source views -> sign jobs by ebpCode. */
export function composeAssembler(config: AssemblerConfig, logger: Logger): Component {
  const ledgerPool = createPool(config.databaseUrl, { applicationName: 'ceb179-assembler' });
  const sourcePool = config.sourceDatabaseUrl
    ? createPool(config.sourceDatabaseUrl, { applicationName: 'ceb179-assembler-source' })
    : ledgerPool;
  const broker = new Broker({
    url: config.amqpUrl,
    logger,
    connectionName: 'ceb179-assembler',
    maxHandlerFailures: config.maxHandlerFailures,
    outageRetryMaxDelayMs: config.outageRetryMaxDelayMs,
    declareTopology: async (channel) => {
      await declareCallbackConsumption(channel);
      await declareSignJobRouting(channel);
    },
  });
  const assemble = new AssembleRequest(
    new RequestRepository(ledgerPool),
    new PaymentRepository(sourcePool, config.sourceSchema),
    new SignJobPublisher(broker, config.signJobKey),
    { timeZone: config.timeZone, lookupRetries: config.lookupRetries, lookupRetryDelayMs: config.lookupRetryDelayMs },
    logger,
  );
  const consumer = new CallbackConsumer(broker, assemble, config.prefetch);
  const ops = new OpsServer({
    port: config.metricsPort,
    metrics: new ServiceMetrics('assembler'),
    logger,
    readiness: async () => ({
      database: await answers(() => ledgerPool.query('SELECT 1')),
      ...broker.readiness(),
    }),
  });
  return new ComponentGroup([
    ops,
    { start: () => ledgerPool.query('SELECT 1').then(() => undefined), stop: () => ledgerPool.end() },
    {
      start: () => (sourcePool === ledgerPool ? undefined : sourcePool.query('SELECT 1').then(() => undefined)),
      stop: () => (sourcePool === ledgerPool ? undefined : sourcePool.end()),
    },
    // stop() of the broker cancels consumption and waits for handlers in flight before closing.
    { start: () => broker.start(), stop: () => broker.stop() },
    { start: () => consumer.start(), stop: () => undefined },
  ]);
}
