import { loadOrExit, runUntilSignal } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { composeAssembler } from './compose';
import { loadAssemblerConfig } from './config';

// assembler: callback -> payment behind the order (source views) -> head/lists JSON built once
// -> sign string -> ledger -> sign job routed by ebpCode to the card that serves it.
const config = loadOrExit(() => loadAssemblerConfig());
const logger = createLogger({ service: 'assembler', level: config.logLevel });
runUntilSignal('assembler', logger, async () => composeAssembler(config, logger));
