import type { NextFunction, Request, Response } from 'express';
import { toAppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { sendCustomsReply } from './customs-reply';

/**
 * The one error handler. Whatever went wrong, the caller gets customs-shaped JSON with code
 * 20000 and a message that names the problem — never a stack trace or an internal detail.
 */
export function errorHandler(logger: Logger) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    const parserStatus = (error as { status?: number; type?: string }).status;
    const parserType = (error as { type?: string }).type;
    let message: string;
    if (parserType === 'entity.too.large') message = 'the body is too large';
    else if (parserType === 'encoding.unsupported' || parserType === 'charset.unsupported') message = 'the body charset is not supported; send UTF-8';
    else if (parserStatus !== undefined && parserStatus >= 400 && parserStatus < 500) message = 'the body could not be read';
    else {
      const appError = toAppError(error);
      message = appError.code === 'INVALID_INPUT' ? appError.message : 'the platform could not accept the call; nothing was recorded';
      if (appError.code !== 'INVALID_INPUT') logger.error({ err: appError.message, path: request.path }, 'callback failed');
    }
    if (message.startsWith('the body') || parserStatus) logger.warn({ problem: message, path: request.path }, 'rejected a malformed call');
    else logger.warn({ problem: message, path: request.path }, 'rejected call');
    sendCustomsReply(response, '20000', message);
  };
}
