export { createLogger, type Logger, type LoggerOptions, redactUrl } from './logger.ts';
