import { loadOrExit, runUntilSignal } from '@ceb179/lifecycle';
import { createLogger } from '@ceb179/logger';
import { composeIngress } from './compose';
import { loadIngressConfig } from './config';

// ingress: customs POSTs openReq to /platDataOpen -> recorded in the ledger -> answered 10000
// -> handed to the assembler over RabbitMQ (or by the outbox relay once the broker is back).
const config = loadOrExit(() => loadIngressConfig());
const logger = createLogger({ service: 'ingress', level: config.logLevel });
runUntilSignal('ingress', logger, async () => composeIngress(config, logger));
