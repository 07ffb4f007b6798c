import type { TestProject } from 'vitest/node';
import { prepareTestTemplates } from '../src/test-templates.ts';

// Once per `vitest run`: migrate the template databases the suites clone (reused across runs
// while the migrations are unchanged), sweep what crashed runs left, and fail a CI run early
// when PostgreSQL is missing.
export default async function setup(project: TestProject): Promise<void> {
  project.provide('offloadTestDatabases', await prepareTestTemplates());
}
