import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: string;
}

/**
 * JSON logs (pino). Keys that could carry the card PIN are censored at the source as a
 * second line of defence: code must never pass the PIN to a logger in the first place.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    name: options.service,
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['pin', 'passwd', 'password', '*.pin', '*.passwd', '*.password', 'args.passwd', '*.args.passwd'],
      censor: '[redacted]',
    },
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A child logger that puts the sessionID on every line it writes. */
export function forSession(logger: Logger, sessionID: string): Logger {
  return logger.child({ sessionID });
}
