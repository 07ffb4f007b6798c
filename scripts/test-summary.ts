// The last line of `npm test`: tests passed, failed and skipped, from vitest's JSON report.
export interface VitestReport {
  numPassedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{ status: string; assertionResults: Array<{ status: string }> }>;
}

/**
 * Tests that failed, counted per test, never per describe block (vitest's numFailedTestSuites
 * counts every enclosing describe, so one failure read "4 failed"). A file that failed with none
 * of its tests failed (a beforeAll threw, an import failed) counts its tests that did not pass as
 * failed, or one if it has none: they never ran, and the run must not read as green.
 */
export function summaryLine(report: VitestReport): string {
  let failed = 0;
  let unran = 0;
  for (const file of report.testResults) {
    const own = file.assertionResults.filter((test) => test.status === 'failed').length;
    if (own > 0 || file.status !== 'failed') {
      failed += own;
      continue;
    }
    const notRun = file.assertionResults.filter((test) => test.status !== 'passed').length;
    failed += Math.max(1, notRun);
    unran += notRun;
  }
  // The tests of a file that failed before running them are counted as failed, not skipped.
  const skipped = Math.max(0, report.numPendingTests + report.numTodoTests - unran);
  return `tests: ${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
}
