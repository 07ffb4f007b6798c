// The readers of a process's own settings: ranges, integers, booleans, empty values as unset,
// and every bad variable reported with its name, the allowed values and what was given.
import { describe, expect, it } from 'vitest';
import { booleanSetting, type ConfigIssue, isSet, numberSetting } from '../src/index.ts';

const port = { min: 1, max: 65_535, integer: true };

describe('numberSetting', () => {
  it('reads a value within the rule, and the fallback when unset or empty', () => {
    const issues: ConfigIssue[] = [];
    expect(numberSetting({ X: ' 8080 ' }, 'X', 1, port, issues)).toBe(8080);
    expect(numberSetting({}, 'X', 7, port, issues)).toBe(7);
    expect(numberSetting({ X: '  ' }, 'X', 7, port, issues)).toBe(7);
    expect(numberSetting({ X: '0.25' }, 'X', 0, { min: 0, max: 1, integer: false }, issues)).toBe(0.25);
    expect(issues).toEqual([]);
  });

  it.each([
    ['70000', 'an integer from 1 to 65535'],
    ['0', 'an integer from 1 to 65535'],
    ['1.5', 'an integer from 1 to 65535'],
    ['-3', 'an integer from 1 to 65535'],
    ['12abc', 'an integer from 1 to 65535'],
    ['1e3', 'an integer from 1 to 65535'],
  ])('refuses %j, naming the variable and the range', (raw, allowed) => {
    const issues: ConfigIssue[] = [];
    expect(numberSetting({ PORTISH: raw }, 'PORTISH', 9, port, issues)).toBe(9);
    expect(issues).toEqual([
      { variable: 'PORTISH', message: `PORTISH must be ${allowed} (got ${JSON.stringify(raw)})` },
    ]);
  });

  it('refuses an integer past the safe range even when the rule allows it', () => {
    const issues: ConfigIssue[] = [];
    numberSetting(
      { BIG: '9007199254740993' },
      'BIG',
      1,
      { min: 1, max: Number.MAX_VALUE, integer: true },
      issues,
    );
    expect(issues).toHaveLength(1);
  });

  it('says the hint after the range', () => {
    const issues: ConfigIssue[] = [];
    numberSetting({ N: 'x' }, 'N', 0, { min: 0, max: 9, integer: true, hint: ', 0 to turn it off' }, issues);
    expect(issues[0]?.message).toBe('N must be an integer from 0 to 9, 0 to turn it off (got "x")');
  });

  it('calls a decimal rule a number', () => {
    const issues: ConfigIssue[] = [];
    numberSetting({ R: '2' }, 'R', 0, { min: 0, max: 1, integer: false }, issues);
    expect(issues[0]?.message).toBe('R must be a number from 0 to 1 (got "2")');
  });
});

describe('booleanSetting', () => {
  it('reads true and false in any case, and the fallback when unset or empty', () => {
    const issues: ConfigIssue[] = [];
    expect(booleanSetting({ B: 'TRUE' }, 'B', false, issues)).toBe(true);
    expect(booleanSetting({ B: ' false ' }, 'B', true, issues)).toBe(false);
    expect(booleanSetting({ B: '' }, 'B', true, issues)).toBe(true);
    expect(booleanSetting({}, 'B', false, issues)).toBe(false);
    expect(issues).toEqual([]);
  });

  it('refuses anything else', () => {
    const issues: ConfigIssue[] = [];
    expect(booleanSetting({ B: 'yes' }, 'B', false, issues)).toBe(false);
    expect(issues).toEqual([{ variable: 'B', message: 'B must be true or false (got "yes")' }]);
  });
});

describe('isSet', () => {
  it('counts undefined, empty and blank values as unset', () => {
    expect([undefined, '', '  ', '0', 'x'].map((raw) => isSet(raw))).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
  });
});
