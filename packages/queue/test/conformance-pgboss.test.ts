import { testDatabases } from '@offload/db/testing';
import { describe } from 'vitest';
import { connectionLossCases } from './conformance/connection-loss.ts';
import { testDatabaseFactory } from './conformance/databases.ts';
import { runQueueConformance } from './conformance/suite.ts';

// PostgreSQL is always there under CI (testDatabases() throws otherwise); elsewhere it may not be.
if (testDatabases().includes('postgres')) {
  runQueueConformance('pg-boss', testDatabaseFactory('postgres'));
  // What only a networked database can do to a worker: drop its connections.
  connectionLossCases(testDatabaseFactory('postgres'));
} else {
  describe.skip('queue conformance: pg-boss (PostgreSQL unreachable at TEST_DATABASE_URL)', () => {});
}
