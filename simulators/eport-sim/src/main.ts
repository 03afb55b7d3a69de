import { AppError } from '@ceb179/errors';
import { createLogger } from '@ceb179/logger';
import { loadEportSimConfig } from './config';
import { loadOrCreateCard } from './data-access/card.file';
import { SoftCard } from './domain/soft-card';
import { startEportSim } from './index';

async function main(): Promise<void> {
  const config = loadEportSimConfig();
  const logger = createLogger({ service: 'eport-sim', level: config.logLevel });
  const card = openCard(config, logger);
  const sim = await startEportSim({
    card,
    port: config.port,
    host: config.host,
    signLatencyMs: config.latencyMs,
    maxWrongPins: config.maxWrongPins,
    quirks: {
      signatureFormat: config.signatureFormat,
      certificateFormat: config.certificateFormat,
      certNoFormat: config.certNoFormat,
      greetingDelayMs: config.greetingDelayMs,
      answerPings: config.answerPings,
      signEncoding: config.signEncoding,
    },
    logger,
  });
  logger.info(
    { url: sim.url, algorithm: card.algorithm, certNo: card.certNo, cardId: card.cardId, cardFile: config.cardFile || null },
    'eport-sim listening',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'eport-sim stopping');
    sim.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: String(error) }, 'eport-sim stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function openCard(config: ReturnType<typeof loadEportSimConfig>, logger: ReturnType<typeof createLogger>): SoftCard {
  const requirePin = () => {
    if (config.pin === '') throw new AppError('CONFIG', 'CEB179_EPORT_SIM_PIN: required to create a new card');
    return config.pin;
  };
  if (config.cardFile === '') {
    logger.warn('CEB179_EPORT_SIM_CARD_FILE not set: using a throw-away card');
    return SoftCard.create({ algorithm: config.algorithm, pin: requirePin() });
  }
  const { card, created } = loadOrCreateCard(config.cardFile, {
    algorithm: config.algorithm,
    get pin() {
      return requirePin();
    },
  });
  if (created) logger.info({ cardFile: config.cardFile }, 'created a new soft card');
  else if (config.pin !== '' && !card.pinMatches(config.pin)) {
    logger.warn({ cardFile: config.cardFile }, 'CEB179_EPORT_SIM_PIN differs from the card file: the card keeps its own PIN');
  }
  return card;
}

main().catch((error: unknown) => {
  // Config errors are already one readable line; anything else is a bug worth its message only.
  const message = error instanceof AppError ? error.reason : error instanceof Error ? error.message : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'eport-sim', msg: message })}\n`);
  process.exit(1);
});
