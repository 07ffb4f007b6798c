export { type Config, LOG_LEVELS, type LogLevel, loadConfig } from './config.ts';
export { type DatabaseTarget, parseDatabaseUrl, redactUrl } from './database-url.ts';
export { ConfigError, type ConfigIssue } from './errors.ts';
export { booleanSetting, isSet, type NumberRule, numberSetting } from './settings.ts';
