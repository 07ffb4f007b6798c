// The queue's behaviour, written once and run against every backend (River runs one driver
// suite against each driver; BullMQ one adapter suite against each backend). A backend passes
// or it is not a backend: a difference is either a bug or a documented capability flag.
//
//   runQueueConformance('sqlite', testDatabaseFactory('sqlite'));
import { describe } from 'vitest';
import { bulkCases } from './bulk.ts';
import { consistencyCases } from './consistency.ts';
import { cronCases } from './cron.ts';
import { defaultsCases } from './defaults.ts';
import { useEnvironment } from './environment.ts';
import { fairnessCases } from './fairness.ts';
import type { ConformanceFactory } from './harness.ts';
import { jobCases } from './jobs.ts';
import { leaseCases } from './leases.ts';
import { processCases } from './processes.ts';
import { readCases } from './reads.ts';
import { workerCases } from './worker.ts';

export type { ConformanceContext, ConformanceFactory } from './harness.ts';

export function runQueueConformance(name: string, factory: ConformanceFactory): void {
  describe(`queue conformance: ${name}`, () => {
    describe('in one process', () => {
      const env = useEnvironment(factory);
      jobCases(env);
      defaultsCases(env);
      cronCases(env);
      consistencyCases(env);
      fairnessCases(env);
      bulkCases(env);
      readCases(env);
      leaseCases(env);
      workerCases(env);
    });
    processCases(factory);
  });
}
