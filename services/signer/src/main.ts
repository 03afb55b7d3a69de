import { loadOrExit, runUntilSignal } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { composeSigner } from './compose';
import { loadSignerConfig } from './config';

// signer (on the Windows card PC): dial out to RabbitMQ -> card self-test through the local
// E-Port control -> sign jobs for this card's ebpCodes -> verify locally -> signature to reporter.
const config = loadOrExit(() => loadSignerConfig());
const logger = createLogger({ service: 'signer', level: config.logLevel }).child({ signerId: config.signerId });
logger.info({ eportUrl: config.eportUrl, ebpCodes: config.ebpCodes.length ? config.ebpCodes : 'all' }, 'signer configuration');
// A stray rejection must not end the process: a restart would run the self-test (and its PIN) again.
process.on('unhandledRejection', (reason) => {
  logger.error(
    { problem: reason instanceof Error ? reason.message : String(reason), alert: 'bug' },
    'unhandled rejection in the signer (kept running)',
  );
});
runUntilSignal('signer', logger, async () => composeSigner(config, logger));
