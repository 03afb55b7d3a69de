import type { RequestHandler } from 'express';
import { ANSWER_BUCKETS, type ServiceMetrics } from '@ceb179/metrics';

/**
 * Counts customs' calls to /platDataOpen by the customs code answered (from the JSON reply) and
 * times each answer: customs waits on it, so it must stay well under a second.
 */
export function callbackMetrics(metrics: ServiceMetrics): RequestHandler {
  const received = metrics.counter(
    'ceb179_callbacks_received_total',
    'Calls to /platDataOpen by the code answered (10000 accepted; 20000 refused) and HTTP status',
    ['code', 'http_status'],
  );
  const answered = metrics.histogram(
    'ceb179_callback_answer_seconds',
    "Time to answer customs' call (the ack customs waits for)",
    ANSWER_BUCKETS,
  );
  return (_request, response, next) => {
    const stop = answered.startTimer();
    let code = 'none';
    // Customs' reply is written as a small JSON Buffer (customs-reply.ts): read its code on the way out.
    const send = response.send.bind(response);
    response.send = (body?: unknown) => {
      if (Buffer.isBuffer(body) || typeof body === 'string') {
        try {
          const value = (JSON.parse(body.toString()) as { code?: unknown } | null)?.code;
          if (typeof value === 'string') code = value;
        } catch {
          // not customs JSON (e.g. an error page): counted with code "none"
        }
      }
      return send(body);
    };
    response.once('finish', () => {
      stop();
      received.inc({ code, http_status: String(response.statusCode) });
    });
    next();
  };
}
