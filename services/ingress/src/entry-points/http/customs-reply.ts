import type { Response } from 'express';

/**
 * Customs' reply shape (protocol.md §1): code and message are strings, serviceTime is our time
 * in ms as a number. Written by hand so the Content-Type is exactly what customs expects.
 */
export function sendCustomsReply(response: Response, code: string, message: string, httpStatus = 200): void {
  const body = JSON.stringify({ code, message, serviceTime: Date.now() });
  response.status(httpStatus).set('Content-Type', 'application/json;charset=utf-8').send(body);
}
