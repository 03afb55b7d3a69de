import { loadOrExit, runUntilSignal } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { composeReporter } from './compose';
import { loadReporterConfig } from './config';

// reporter: verified signature -> payExInfoStr from the stored head/lists text -> upload to
// customs -> interpret the code (10000/20006 done, 20004 config alert, transport faults retried).
const config = loadOrExit(() => loadReporterConfig());
const logger = createLogger({ service: 'reporter', level: config.logLevel });
logger.info({ customsUrl: config.customsUrl }, 'uploading to customs');
runUntilSignal('reporter', logger, async () => composeReporter(config, logger));
