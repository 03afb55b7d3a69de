import type { NextFunction, Request, Response } from 'express';
import { isAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { sendCustomsReply } from './customs-reply.writer';

/** What express' body parser reports, by its error `type`, in words a caller can act on. */
const BODY_PROBLEMS: Record<string, string> = {
  'entity.too.large': 'the body is too large',
  'encoding.unsupported': 'the body charset is not supported; send UTF-8',
  'charset.unsupported': 'the body charset is not supported; send UTF-8',
};

/**
 * The one error handler. Whatever went wrong, the caller gets customs-shaped JSON with code
 * 20000 and a message that names the problem — never a stack trace or an internal detail.
 */
export function errorHandler(logger: Logger) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    const { status, type } = error as { status?: number; type?: string };
    let message: string;
    if (isAppError(error) && error.code === 'INVALID_INPUT') {
      message = error.message;
    } else if (type !== undefined && status !== undefined && status >= 400 && status < 500) {
      message = BODY_PROBLEMS[type] ?? 'the body could not be read';
    } else {
      logger.error({ err: error instanceof Error ? error.message : String(error), path: request.path }, 'callback failed');
      sendCustomsReply(response, '20000', 'the platform could not accept the call; nothing was recorded');
      return;
    }
    logger.warn({ problem: message, path: request.path }, 'rejected a call that is not a valid callback');
    sendCustomsReply(response, '20000', message);
  };
}
