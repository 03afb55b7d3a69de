import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout when absent (tests pass a stream to read them). */
  destination?: pino.DestinationStream;
}

/** The entry of docs/errors.md that explains an alert: what it means and what to do. */
export function alertDoc(alert: string): string {
  return `docs/errors.md#alert-${alert}`;
}

/**
 * JSON logs (pino). Keys that could carry the card PIN are censored at the source as a
 * second line of defence: code must never pass the PIN to a logger in the first place.
 * A line that needs a person carries an `alert` field; it also gets `errorDoc`, the link to its
 * entry in docs/errors.md, so whoever reads the alert finds what to do.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings: pino.LoggerOptions = {
    name: options.service,
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['pin', 'passwd', 'password', '*.pin', '*.passwd', '*.password', 'args.passwd', '*.args.passwd'],
      censor: '[redacted]',
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => (typeof object.alert === 'string' ? { ...object, errorDoc: alertDoc(object.alert) } : object),
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A child logger that puts the sessionID on every line it writes. */
export function forSession(logger: Logger, sessionID: string): Logger {
  return logger.child({ sessionID });
}
