import type { Response } from 'express';

/**
 * Customs' reply shape (docs/protocol.md §1): code and message are strings, serviceTime is our time
 * in ms as a number. Written by hand so the Content-Type is exactly what customs expects; the
 * body goes out as a Buffer because express rewrites the Content-Type of a string body to
 * `application/json; charset=utf-8` (with a space).
 */
export function sendCustomsReply(response: Response, code: string, message: string, httpStatus = 200): void {
  const body = JSON.stringify({ code, message, serviceTime: Date.now() });
  response.status(httpStatus).set('Content-Type', 'application/json;charset=utf-8').send(Buffer.from(body, 'utf8'));
}
