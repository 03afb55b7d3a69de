import express, { type Router } from 'express';

export interface HealthProbe {
  (): Promise<Record<string, boolean>>;
}

/** /healthz: the process serves. /readyz: the ledger answers (the broker may be down: the outbox covers it). */
export function healthRouter(probe: HealthProbe): Router {
  const router = express.Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const checks = await probe();
    response.status(checks.database ? 200 : 503).json({ status: checks.database ? 'ready' : 'not-ready', checks });
  });
  return router;
}
