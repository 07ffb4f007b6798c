import { testDatabaseFactory } from './conformance/databases.ts';
import { runQueueConformance } from './conformance/suite.ts';

runQueueConformance('sqlite', testDatabaseFactory('sqlite'));
