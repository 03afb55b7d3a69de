import { loadOrExit, runUntilSignal } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { composeConsole } from './compose';
import { loadConsoleConfig } from './config';

// console: one page for operators over the ledger and the signers' heartbeats; its only write
// is a re-send request to the reporter (the same one `npx ceb179 resend` makes).
const config = loadOrExit(() => loadConsoleConfig());
const logger = createLogger({ service: 'console', level: config.logLevel });
runUntilSignal('console', logger, async () => composeConsole(config, logger));
