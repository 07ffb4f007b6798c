import { type Logger, pino } from 'pino';

export type { Logger };

// Anything that could carry a credential is redacted wherever it appears in a log line.
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.apiKey',
  '*.key',
  '*.password',
  '*.databaseUrl',
  'databaseUrl',
  'config.apiBootstrapKey',
];

export interface LoggerOptions {
  level: string;
  /** The process's role, on every line: 'api', 'worker', … */
  service: string;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** Replaces the password of a connection URL, for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:[redacted]@');
}
