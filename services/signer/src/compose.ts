import { toAppError } from '@ceb179/errors';
import type { Component } from '@ceb179/lifecycle';
import type { Logger } from '@ceb179/logger';
import { backoffMs, Broker, declareSignerPublishing, declareSignJobQueues } from '@ceb179/mq';
import { ControlLink } from './clients/control.link';
import { controlRestarter } from './clients/control-restart.command';
import { FilePinMemory } from './data-access/pin-memory.file';
import { HeartbeatPublisher } from './clients/heartbeat.publisher';
import { BrokerSignaturePublisher } from './clients/signature.publisher';
import type { SignerConfig } from './config';
import { Card } from './domain/card';
import { PinGate } from './domain/pin-gate';
import { ReaderBreaker } from './domain/reader-breaker';
import { runSelfTest } from './domain/self-test';
import { SignDocument } from './domain/sign-document.use-case';
import { SignJobAuthenticity } from './domain/sign-job-authenticity';
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
  const pinMemory = new FilePinMemory(config.stateDir);
  const pinGate = new PinGate(pinMemory, config.cardPin, logger);
  const control = new ControlLink({
    url: config.eportUrl,
    callTimeoutMs: config.callTimeoutMs,
    greetingTimeoutMs: config.greetingTimeoutMs,
    keepAliveIntervalMs: config.controlKeepAliveMs,
    secrets: [config.cardPin],
    logger,
    pinGate,
  });
  const card = new Card(control, config.cardPin, pinGate);
  const broker = new Broker({
    url: config.amqpUrl,
    logger,
    connectionName: `ceb179-signer-${config.signerId}`,
    declareTopology: async (channel) => {
      await declareSignJobQueues(channel, config.ebpCodes);
      await declareSignerPublishing(channel);
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
      restartControl: controlRestarter(config.controlRestartCommand, [config.cardPin]),
    },
    status,
    logger,
  );
  const signDocument = new SignDocument(
    card,
    status,
    breaker,
    new BrokerSignaturePublisher(broker, config.signerId, () => card.certificate.algorithm),
    { ebpCodes: config.ebpCodes, pauseConsumption, onSigningFault: (problem) => onSigningFault(problem) },
    logger,
  );
  const authenticity = new SignJobAuthenticity({
    key: config.signJobKey,
    ebpCodes: config.ebpCodes,
    deadlineGraceMs: config.deadlineGraceMs,
  });
  const consumer = new SignJobConsumer(broker, signDocument, signJobQueues(config.ebpCodes), config.prefetch, authenticity, logger);
  const heartbeat = new HeartbeatPublisher(broker, status, config.heartbeatIntervalMs, logger);
  const health = new HealthServer(status, config.healthPort, logger);
  let selfTestTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let consuming = false;
  let signingFaultDelayMs = config.signingFaultRetryMs;

  const retrySelfTestIn = (delayMs: number, attempt: number) => {
    if (stopped) return;
    if (selfTestTimer) clearTimeout(selfTestTimer);
    selfTestTimer = setTimeout(() => void selfTestThenConsume(attempt), delayMs);
  };

  /** Every signature failing, the probe's too: stop, keep the jobs, try the self-test again later. */
  const onSigningFault = (problem: string) => {
    if (status.state === 'signing-fault' || status.pinLocked) return;
    status.set('signing-fault', problem);
    pauseConsumption();
    logger.fatal(
      { problem, alert: 'signing-fault', retryInMs: signingFaultDelayMs },
      "the card PC's signatures do not verify: consumption stopped, jobs stay queued",
    );
    retrySelfTestIn(signingFaultDelayMs, 0);
    signingFaultDelayMs = Math.min(600_000, signingFaultDelayMs * 2);
  };

  const selfTestThenConsume = async (attempt: number): Promise<void> => {
    try {
      const result = await runSelfTest(card, status, logger);
      logger.info({ ...result, queues: signJobQueues(config.ebpCodes) }, 'card self-test passed; consuming sign jobs');
      status.set('ready');
      signingFaultDelayMs = config.signingFaultRetryMs;
      if (consuming) await broker.resumeConsumers();
      else await consumer.start();
      consuming = true;
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'CARD_PIN') {
        status.set('paused-for-pin', appError.message);
        logger.fatal(
          { problem: appError.message, alert: 'pin' },
          'POSSIBLE PIN FAILURE at self-test: not consuming; correct the PIN and restart the signer',
        );
        return;
      }
      if (appError.code === 'SIGNATURE_INVALID' || appError.code === 'PROTOCOL') {
        status.set('signing-fault', appError.message);
        logger.fatal(
          { problem: appError.message, alert: 'signing-fault', retryInMs: signingFaultDelayMs },
          'card self-test failed: the probe signature does not verify; not consuming',
        );
        retrySelfTestIn(signingFaultDelayMs, attempt + 1);
        signingFaultDelayMs = Math.min(600_000, signingFaultDelayMs * 2);
        return;
      }
      if (appError.code === 'CONFIG') {
        status.set('expired', appError.message);
        logger.fatal({ problem: appError.message, alert: 'card' }, 'card self-test failed: not consuming; a person must act');
        return;
      }
      status.set('reader-fault', appError.message);
      const delay = backoffMs(attempt, 2_000, 60_000);
      logger.warn({ problem: appError.message, retryInMs: delay }, 'card self-test could not reach the card; retrying');
      retrySelfTestIn(delay, attempt + 1);
    }
  };

  return {
    status,
    get healthUrl() {
      return health.url;
    },
    async start() {
      pinMemory.ensureWritable();
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
