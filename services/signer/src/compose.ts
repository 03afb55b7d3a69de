import { Queues } from '@ceb179/contracts';
import { toAppError } from '@ceb179/errors';
import type { Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { backoffMs, Broker, declareHeartbeatQueue, declareSignJobRouting, declareWorkQueue } from '@ceb179/mq';
import { ControlLink } from './clients/control.link';
import { controlRestarter } from './clients/control-restart';
import { HeartbeatPublisher } from './clients/heartbeat.publisher';
import { BrokerSignaturePublisher } from './clients/signature.publisher';
import type { SignerConfig } from './config';
import { Card } from './domain/card';
import { ReaderBreaker } from './domain/reader-breaker';
import { runSelfTest } from './domain/self-test';
import { SignJob } from './domain/sign-job';
import { SignerStatus } from './domain/signer-status';
import { HealthServer } from './entry-points/health.server';
import { SignJobConsumer, signJobQueues } from './entry-points/sign-job.consumer';

export interface Signer extends Component {
  readonly status: SignerStatus;
  readonly healthUrl: string;
}

/**
 * Wires the signer on the card PC: it dials out to RabbitMQ, proves the card works (self-test),
 * and only then consumes sign jobs for its ebpCodes. A card problem never crashes the process:
 * a restart loop would spend a PIN attempt per restart.
 */
export function composeSigner(config: SignerConfig, logger: Logger): Signer {
  const status = new SignerStatus(config.signerId, config.ebpCodes);
  const control = new ControlLink({
    url: config.eportUrl,
    callTimeoutMs: config.callTimeoutMs,
    greetingTimeoutMs: config.greetingTimeoutMs,
    secrets: [config.cardPin],
    logger,
  });
  const card = new Card(control, config.cardPin);
  const broker = new Broker({
    url: config.amqpUrl,
    logger,
    connectionName: `ceb179-signer-${config.signerId}`,
    declareTopology: async (channel) => {
      await declareSignJobRouting(channel, config.ebpCodes);
      await declareWorkQueue(channel, Queues.signatures);
      await declareHeartbeatQueue(channel);
    },
  });
  const pauseConsumption = () => void broker.pauseConsumers();
  const breaker = new ReaderBreaker(
    {
      threshold: config.breakerThreshold,
      cooldownMs: config.breakerCooldownMs,
      maxCooldownMs: 300_000,
      probe: async () => void (await card.readCertificate()),
      pauseConsumption,
      resumeConsumption: () => (status.pinLocked ? Promise.resolve() : broker.resumeConsumers()),
      restartControl: controlRestarter(config.controlRestartCommand),
    },
    status,
    logger,
  );
  const signJob = new SignJob(
    card,
    status,
    breaker,
    new BrokerSignaturePublisher(broker, config.signerId, () => card.certificate.algorithm),
    { ebpCodes: config.ebpCodes, pauseConsumption },
    logger,
  );
  const consumer = new SignJobConsumer(broker, signJob, signJobQueues(config.ebpCodes), config.prefetch);
  const heartbeat = new HeartbeatPublisher(broker, status, config.heartbeatIntervalMs, logger);
  const health = new HealthServer(status, config.healthPort, logger);
  let selfTestTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const selfTestThenConsume = async (attempt: number): Promise<void> => {
    try {
      const result = await runSelfTest(card, status, logger);
      logger.info({ ...result, queues: signJobQueues(config.ebpCodes) }, 'card self-test passed; consuming sign jobs');
      status.set('ready');
      await consumer.start();
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'CARD_PIN') {
        status.set('paused-for-pin', appError.message);
        logger.fatal({ problem: appError.message, alert: 'pin' }, 'POSSIBLE PIN FAILURE at self-test: not consuming; correct the PIN and restart the signer');
        return;
      }
      if (appError.code === 'CONFIG' || appError.code === 'SIGNATURE_INVALID' || appError.code === 'PROTOCOL') {
        status.set('expired', appError.message);
        logger.fatal({ problem: appError.message, alert: 'card' }, 'card self-test failed: not consuming; a person must act');
        return;
      }
      status.set('reader-fault', appError.message);
      const delay = backoffMs(attempt, 2_000, 60_000);
      logger.warn({ problem: appError.message, retryInMs: delay }, 'card self-test could not reach the card; retrying');
      if (!stopped) selfTestTimer = setTimeout(() => void selfTestThenConsume(attempt + 1), delay);
    }
  };

  return {
    status,
    get healthUrl() {
      return health.url;
    },
    async start() {
      await health.start();
      await broker.start();
      heartbeat.start();
      await selfTestThenConsume(0);
    },
    async stop() {
      stopped = true;
      if (selfTestTimer) clearTimeout(selfTestTimer);
      breaker.stop();
      await broker.pauseConsumers(); // drain: jobs in flight finish, unstarted ones go back
      await heartbeat.stop();
      await broker.stop();
      await control.close();
      await health.stop();
    },
  };
}
