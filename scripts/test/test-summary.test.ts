import { describe, expect, it } from 'vitest';
import { summaryLine } from '../test-summary.ts';

const file = (status: string, tests: string[]) => ({
  status,
  assertionResults: tests.map((s) => ({ status: s })),
});

describe('npm test summary', () => {
  it('counts one failed test as one, however many describe blocks enclose it', () => {
    const report = {
      numPassedTests: 5,
      numPendingTests: 1,
      numTodoTests: 0,
      numFailedTestSuites: 4,
      testResults: [
        file('failed', ['passed', 'failed', 'passed', 'skipped']),
        file('passed', ['passed', 'passed', 'passed']),
      ],
    };
    expect(summaryLine(report)).toBe('tests: 5 passed, 1 failed, 1 skipped');
  });

  it('counts the tests of a file whose beforeAll failed as failed, not skipped', () => {
    const report = {
      numPassedTests: 1,
      numPendingTests: 3,
      numTodoTests: 0,
      testResults: [
        file('failed', ['skipped', 'skipped', 'skipped']),
        file('failed', []),
        file('passed', ['passed']),
      ],
    };
    expect(summaryLine(report)).toBe('tests: 1 passed, 4 failed, 0 skipped');
  });
});
