import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The console's one credential: basic auth with any user name and the token as password (what a
 * browser prompts for), or a bearer token (scripts). Compared in constant time. The user name,
 * when given, is recorded as who asked for a re-send.
 */
export function requireToken(token: string): RequestHandler {
  const expected = digest(token);
  return (request, response, next) => {
    const header = request.get('authorization') ?? '';
    let presented: string | undefined;
    let user = 'console';
    if (header.startsWith('Bearer ')) presented = header.slice('Bearer '.length);
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        presented = decoded.slice(colon + 1);
        user = decoded.slice(0, colon) || user;
      }
    }
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) {
      response.locals.operator = `console:${user.replace(/[^\w.@-]/g, '_').slice(0, 64)}`;
      next();
      return;
    }
    response
      .set('WWW-Authenticate', 'Basic realm="ceb179 console", charset="UTF-8"')
      .status(401)
      .json({ error: 'the console token is required' });
  };
}
