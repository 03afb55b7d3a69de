import { Queues } from '@ceb179/contracts';
import { toAppError } from '@ceb179/errors';
import type { Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { backoffMs, Broker, declareSignJobRouting, declareWorkQueue } from '@ceb179/mq';
import { ControlLink } from './clients/control.link';
import { BrokerSignaturePublisher } from './clients/signature.publisher';
import type { SignerConfig } from './config';
import { Card } from './domain/card';
import { CardGuard } from './domain/card-guard';
import { runSelfTest } from './domain/self-test';
import { SignJob } from './domain/sign-job';
import { SignJobConsumer, signJobQueues } from './entry-points/sign-job.consumer';

export interface Signer extends Component {
  readonly guard: CardGuard;
}

/**
 * Wires the signer on the card PC: it dials out to RabbitMQ, proves the card works (self-test),
 * and only then consumes sign jobs for its ebpCodes. A card problem never crashes the process:
 * a restart loop would spend a PIN attempt per restart.
 */
export function composeSigner(config: SignerConfig, logger: Logger): Signer {
  const guard = new CardGuard();
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
    },
  });
  const signJob = new SignJob(
    card,
    guard,
    new BrokerSignaturePublisher(broker, config.signerId, () => card.certificate.algorithm),
    { ebpCodes: config.ebpCodes, pauseConsumption: () => void broker.pauseConsumers() },
    logger,
  );
  const consumer = new SignJobConsumer(broker, signJob, signJobQueues(config.ebpCodes), config.prefetch);
  let selfTestTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const selfTestThenConsume = async (attempt: number): Promise<void> => {
    try {
      const result = await runSelfTest(card, logger);
      logger.info({ ...result, queues: signJobQueues(config.ebpCodes) }, 'card self-test passed; consuming sign jobs');
      guard.set('ready');
      await consumer.start();
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'CARD_PIN') {
        guard.set('paused-for-pin', appError.message);
        logger.fatal({ problem: appError.message }, 'POSSIBLE PIN FAILURE at self-test: not consuming; correct the PIN and restart the signer');
        return;
      }
      if (appError.code === 'CONFIG' || appError.code === 'SIGNATURE_INVALID') {
        guard.set('expired', appError.message);
        logger.fatal({ problem: appError.message }, 'card self-test failed: not consuming; a person must act');
        return;
      }
      guard.set('reader-fault', appError.message);
      const delay = backoffMs(attempt, 2_000, 60_000);
      logger.warn({ problem: appError.message, retryInMs: delay }, 'card self-test could not reach the card; retrying');
      if (!stopped) selfTestTimer = setTimeout(() => void selfTestThenConsume(attempt + 1), delay);
    }
  };

  return {
    guard,
    async start() {
      await broker.start();
      await selfTestThenConsume(0);
    },
    async stop() {
      stopped = true;
      if (selfTestTimer) clearTimeout(selfTestTimer);
      await broker.stop();
      await control.close();
    },
  };
}

