import express, { type Request, type Response, type Router } from 'express';
import { AppError } from '@ceb179/errors';
import type { CallbackIntake } from '../../domain/callback-intake.use-case';
import { parseOpenReq } from '../../domain/open-req';
import { sendCustomsReply } from './customs-reply.writer';

export const CALLBACK_PATH = '/platDataOpen';

/**
 * POST /platDataOpen — customs' callback (docs/protocol.md §1): a form with one field, openReq.
 * The body is read as text and decoded here, so every malformed shape gets the same clear
 * code-20000 reply instead of a parser's error page.
 */
export function callbackRouter(intake: CallbackIntake, bodyLimitBytes: number): Router {
  const router = express.Router();
  router.post(
    CALLBACK_PATH,
    express.text({ type: () => true, limit: bodyLimitBytes, defaultCharset: 'utf-8' }),
    async (request: Request, response: Response) => {
      const openReq = parseOpenReq(readOpenReqField(request));
      await intake.accept(openReq);
      sendCustomsReply(response, '10000', '');
    },
  );
  return router;
}

function readOpenReqField(request: Request): string | undefined {
  const contentType = request.headers['content-type'];
  if (contentType && !/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    throw new AppError('INVALID_INPUT', 'the body must be application/x-www-form-urlencoded with the field openReq');
  }
  const body: unknown = request.body;
  if (typeof body !== 'string' || body === '') throw new AppError('INVALID_INPUT', 'the body is empty; expected the form field openReq');
  const form = new URLSearchParams(body);
  const values = form.getAll('openReq');
  if (values.length > 1) throw new AppError('INVALID_INPUT', 'the form field openReq is given more than once');
  return values[0];
}
