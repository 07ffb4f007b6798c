import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDatabaseUrl, redactUrl } from '../src/index.ts';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('gives every documented default for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: 'sqlite:./data/offload.db',
      database: { kind: 'sqlite', path: resolve('data/offload.db') },
      databasePoolMax: 10,
      port: 3000,
      apiProcesses: 1,
      apiBootstrapKey: undefined,
      workerConcurrency: 4,
      workerThreads: Math.max(1, availableParallelism() - 1),
      workerPort: 3001,
      logLevel: 'info',
      logSlowRequestMs: 500,
      maxUploadBytes: 1024 ** 3,
      jobRunAtHorizonDays: 365,
      cacheTtlSeconds: 30,
      testDatabaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty and blank values as unset', () => {
    expect(loadConfig({ PORT: '', LOG_LEVEL: '  ' })).toMatchObject({ port: 3000, logLevel: 'info' });
  });

  it('reads only the environment it is given', () => {
    expect(loadConfig({ PORT: '8080' }).port).toBe(8080);
  });
});

// Every integer variable: its name, the range named in the message, a good value and its field.
const integers = [
  ['PORT', 1, 65535, 'port'],
  ['WORKER_PORT', 1, 65535, 'workerPort'],
  ['DATABASE_POOL_MAX', 1, 1000, 'databasePoolMax'],
  ['API_PROCESSES', 1, 256, 'apiProcesses'],
  ['WORKER_CONCURRENCY', 1, 1000, 'workerConcurrency'],
  ['WORKER_THREADS', 1, 256, 'workerThreads'],
  ['LOG_SLOW_REQUEST_MS', 0, 86_400_000, 'logSlowRequestMs'],
  ['MAX_UPLOAD_BYTES', 1, Number.MAX_SAFE_INTEGER, 'maxUploadBytes'],
  ['JOB_RUN_AT_HORIZON_DAYS', 1, 36_500, 'jobRunAtHorizonDays'],
  ['CACHE_TTL_SECONDS', 0, 604_800, 'cacheTtlSeconds'],
] as const;

describe.each(integers)('%s', (name, min, max, field) => {
  it('accepts the bounds and a value between', () => {
    expect(loadConfig({ [name]: String(min) })[field]).toBe(min);
    expect(loadConfig({ [name]: String(max) })[field]).toBe(max);
    expect(loadConfig({ [name]: ` ${min + 1} ` })[field]).toBe(min + 1);
  });

  it.each(['abc', '-1', '1.5', '1e3', '0x10', String(max) + '0', ...(min > 0 ? ['0'] : [])])(
    'refuses %j, naming the variable, the range and the value',
    (bad) => {
      const err = configError({ [name]: bad });
      expect(err.issues).toEqual([
        { variable: name, message: `${name} must be an integer from ${min} to ${max} (got "${bad}")` },
      ]);
      expect(err.message).toBe(err.issues[0]!.message);
    },
  );
});

describe('PORT', () => {
  it('gives the documented message', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow('PORT must be an integer from 1 to 65535 (got "abc")');
  });
});

describe('LOG_LEVEL', () => {
  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts %s', (level) => {
    expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it('refuses an unknown level and lists the allowed ones', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    );
  });
});

describe('DATABASE_URL', () => {
  it('accepts a relative sqlite path and resolves it against the working directory', () => {
    const config = loadConfig({ DATABASE_URL: 'sqlite:tmp/x.db' });
    expect(config.database).toEqual({ kind: 'sqlite', path: resolve('tmp/x.db') });
    expect(config.databaseUrl).toBe('sqlite:tmp/x.db');
  });

  it('accepts absolute sqlite paths, with or without slashes after the scheme', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/offload.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/var/lib/offload.db',
    });
    expect(parseDatabaseUrl('sqlite:///var/lib/offload.db')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/offload.db',
    });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it.each([
    'postgres://u:p@db:5432/offload',
    'postgresql://u@db/offload',
    'postgres:///offload?host=/run/postgresql',
  ])('accepts %s', (url) => {
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
  });

  it.each(['mysql://u@h/db', 'sqlite:', 'offload.db', 'postgres://'])('refuses %j', (bad) => {
    const err = configError({ DATABASE_URL: bad });
    expect(err.issues[0]!.variable).toBe('DATABASE_URL');
    expect(err.message).toMatch(/^DATABASE_URL must be sqlite:<path> or postgres:\/\//);
    expect(err.message).toContain(`(got ${JSON.stringify(bad)})`);
  });

  it('never shows the password of a refused URL', () => {
    const err = configError({ DATABASE_URL: 'mysql://admin:hunter2@db/offload' });
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('mysql://admin:***@db/offload');
  });
});

describe('TEST_DATABASE_URL', () => {
  it('accepts a postgres URL', () => {
    expect(loadConfig({ TEST_DATABASE_URL: 'postgres://x@h:1/t' }).testDatabaseUrl).toBe(
      'postgres://x@h:1/t',
    );
  });

  it('refuses sqlite and hides passwords', () => {
    expect(() => loadConfig({ TEST_DATABASE_URL: 'sqlite:x.db' })).toThrow(
      'TEST_DATABASE_URL must be a postgres://… URL (got "sqlite:x.db")',
    );
    const err = configError({ TEST_DATABASE_URL: 'http://u:secret@h/t' });
    expect(err.message).not.toContain('secret');
  });
});

describe('API_BOOTSTRAP_KEY', () => {
  it('accepts a long key', () => {
    expect(loadConfig({ API_BOOTSTRAP_KEY: 'k'.repeat(32) }).apiBootstrapKey).toBe('k'.repeat(32));
  });

  it.each(['short-key', 'has a space in it but long'])('refuses %j without showing it', (bad) => {
    const err = configError({ API_BOOTSTRAP_KEY: bad });
    expect(err.message).toBe(
      `API_BOOTSTRAP_KEY must be at least 16 characters without spaces (got <redacted, ${bad.length} characters>)`,
    );
  });
});

describe('CURSOR_SECRET', () => {
  it('is unset unless given: nothing a caller knows (such as DATABASE_URL) derives it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h/a' }).cursorSecret).toBeUndefined();
  });

  it('takes an explicit secret and refuses a short one without showing it', () => {
    expect(loadConfig({ CURSOR_SECRET: 's'.repeat(16) }).cursorSecret).toBe('s'.repeat(16));
    expect(() => loadConfig({ CURSOR_SECRET: 'tiny' })).toThrow(
      'CURSOR_SECRET must be at least 16 characters (got <redacted, 4 characters>)',
    );
  });
});

describe('ConfigError', () => {
  it('reports every bad variable at once', () => {
    const err = configError({ PORT: '0', LOG_LEVEL: 'loud', WORKER_THREADS: 'x' });
    expect(err.issues.map((issue) => issue.variable).sort()).toEqual(['LOG_LEVEL', 'PORT', 'WORKER_THREADS']);
    expect(err.message.split('; ')).toHaveLength(3);
    expect(err.name).toBe('ConfigError');
  });
});

describe('redactUrl', () => {
  it('hides only the password', () => {
    expect(redactUrl('postgres://u:p%40ss@h:5432/db?ssl=true')).toBe('postgres://u:***@h:5432/db?ssl=true');
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactUrl('sqlite:./x.db')).toBe('sqlite:./x.db');
  });
});
