// Worker-only settings: per-kind concurrency and the shutdown timeout, with bad values named.
import { ConfigError } from '@offload/config';
import { describe, expect, it } from 'vitest';
import { concurrencyVariable, loadWorkerSettings } from '../src/settings.ts';

const kinds = ['system.echo', 'import.csv', 'rebuild.kpi'];

describe('worker settings', () => {
  it('names each kind’s variable', () => {
    expect(concurrencyVariable('system.echo')).toBe('WORKER_CONCURRENCY_SYSTEM_ECHO');
    expect(concurrencyVariable('import.csv')).toBe('WORKER_CONCURRENCY_IMPORT_CSV');
  });

  it('reads the overrides that are set and defaults the rest', () => {
    const env = {
      WORKER_CONCURRENCY: '8',
      WORKER_CONCURRENCY_IMPORT_CSV: '1',
      WORKER_CONCURRENCY_REBUILD_KPI: ' ',
    };
    expect(loadWorkerSettings(env, kinds)).toEqual({
      kindConcurrency: new Map([['import.csv', 1]]),
      shutdownTimeoutMs: 30_000,
    });
    expect(loadWorkerSettings({ WORKER_SHUTDOWN_TIMEOUT_MS: '500' }, kinds).shutdownTimeoutMs).toBe(500);
  });

  it('fails with every bad variable named', () => {
    const env = {
      WORKER_CONCURRENCY_IMPORT_CSV: 'two',
      WORKER_CONCURRENCY_SYSTEM_ECOH: '2',
      WORKER_SHUTDOWN_TIMEOUT_MS: '-1',
    };
    let error: unknown;
    try {
      loadWorkerSettings(env, kinds);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        variable: 'WORKER_CONCURRENCY_IMPORT_CSV',
        message:
          'WORKER_CONCURRENCY_IMPORT_CSV must be an integer from 0 to 1000, 0 to not run import.csv here (got "two")',
      },
      {
        variable: 'WORKER_CONCURRENCY_SYSTEM_ECOH',
        message:
          'WORKER_CONCURRENCY_SYSTEM_ECOH names no job kind (known: WORKER_CONCURRENCY_SYSTEM_ECHO, WORKER_CONCURRENCY_IMPORT_CSV, WORKER_CONCURRENCY_REBUILD_KPI)',
      },
      {
        variable: 'WORKER_SHUTDOWN_TIMEOUT_MS',
        message: 'WORKER_SHUTDOWN_TIMEOUT_MS must be an integer from 0 to 3600000 (got "-1")',
      },
    ]);
  });
});
