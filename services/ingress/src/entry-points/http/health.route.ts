import express, { type Router } from 'express';

export interface HealthProbe {
  (): Promise<Record<string, boolean>>;
}

/**
 * /healthz: the process serves. /readyz: ingress can record a callback — in the ledger, or in
 * RabbitMQ while the ledger is away — so an outage of one never takes it out of the load balancer.
 */
export function healthRouter(probe: HealthProbe): Router {
  const router = express.Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const checks = await probe();
    const canRecord = Boolean(checks.database) || Boolean(checks.broker);
    response.status(canRecord ? 200 : 503).json({ status: canRecord ? 'ready' : 'not-ready', checks });
  });
  return router;
}
