import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '@ceb179/errors';
import { createLogger, type Logger } from '@ceb179/logger';
import { loadCustomsSimConfig, type CustomsSimConfig } from './config';
import { readCertificateFile } from './data-access/certificate.file';
import { startCustomsSim, type CustomsSim } from './index';

const POLL_MS = 500;

async function main(): Promise<void> {
  const config = loadCustomsSimConfig();
  const logger = createLogger({ service: 'customs-sim', level: config.logLevel });
  const sim = await startCustomsSim({
    port: config.port,
    host: config.host,
    rejectBadSignatures: config.rejectBadSignatures,
    strict: config.strict,
    logger,
  });
  logger.info({ url: sim.url, uploadUrl: sim.uploadUrl }, 'customs-sim listening');

  const abort = new AbortController();
  // Not awaited: the demo may start eport-sim (which writes its card file) after this service.
  void registerCertificateFiles(sim, config, logger, abort.signal).catch((error: unknown) => {
    logger.fatal({ err: error instanceof AppError ? error.reason : String(error) }, 'certificate registration failed');
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'customs-sim stopping');
    abort.abort();
    sim.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: String(error) }, 'customs-sim stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function registerCertificateFiles(sim: CustomsSim, config: CustomsSimConfig, logger: Logger, signal: AbortSignal): Promise<void> {
  const ebpCodes = config.ebpCodes.length > 0 ? { ebpCodes: config.ebpCodes } : {};
  const deadline = Date.now() + config.certWaitMs;
  await Promise.all(
    config.certFiles.map(async (path) => {
      for (let announced = false; ; announced = true) {
        const certificateBase64 = await readCertificateFile(path);
        if (certificateBase64 !== null) {
          sim.registerCertificate({ certificateBase64, ...ebpCodes });
          logger.info({ path, ebpCodes: config.ebpCodes.length > 0 ? config.ebpCodes : 'any' }, 'certificate registered');
          return;
        }
        if (Date.now() >= deadline)
          throw new AppError('CONFIG', `CEB179_CUSTOMS_SIM_CERT_FILES: ${path} did not appear within ${config.certWaitMs} ms`);
        if (!announced) logger.warn({ path }, 'certificate file not there yet, waiting for it');
        try {
          await sleep(POLL_MS, undefined, { signal });
        } catch {
          return; // stopping
        }
      }
    }),
  );
}

main().catch((error: unknown) => {
  const message = error instanceof AppError ? error.reason : error instanceof Error ? error.message : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'customs-sim', msg: message })}\n`);
  process.exit(1);
});
