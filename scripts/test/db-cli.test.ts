// `npm run db --` arguments: each mistake is refused with a message naming it (exit 2), before
// any database is opened; a database that cannot be opened is named with what to check (exit 1).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDbArgs } from '../db.ts';

const ok = ['--from', 'sqlite:./data/a.db', '--to', 'postgres://postgres@127.0.0.1:5432/b'];

describe('npm run db -- arguments', () => {
  it('reads copy and verify with their options', () => {
    expect(parseDbArgs(['copy', ...ok, '--with-history', '--resume', '--batch-size', '1000'])).toEqual({
      command: 'copy',
      from: 'sqlite:./data/a.db',
      to: 'postgres://postgres@127.0.0.1:5432/b',
      withHistory: true,
      resume: true,
      batchSize: 1000,
      runs: 0,
      out: null,
    });
    expect(parseDbArgs(['analyze', '--runs', '5'])).toMatchObject({
      command: 'analyze',
      runs: 5,
      out: 'docs/performance/db-analyze-<dialect>.md',
    });
    expect(parseDbArgs(['analyze', '--no-report'])).toMatchObject({ runs: 30, out: null });
    expect(parseDbArgs(['verify', ...ok])?.command).toBe('verify');
    expect(parseDbArgs([])).toBeNull();
    expect(parseDbArgs(['--help'])).toBeNull();
  });

  it.each([
    [['move', ...ok], /unknown command "move": expected one of copy, verify, analyze/],
    [['analyze', '--from', ok[1]!], /--from does not apply to analyze/],
    [['analyze', '--runs', '0'], /--runs must be an integer/],
    [['analyze', '--out', 'x.md', '--no-report'], /--out and --no-report exclude each other/],
    [['copy', ...ok, '--runs', '3'], /--runs applies to analyze only/],
    [['copy', '--to', ok[3]!], /--from URL is required/],
    [['copy', '--from', ok[1]!], /--to URL is required/],
    [['copy', '--from', 'mysql://x', '--to', ok[3]!], /--from must be sqlite:<path> or postgres:/],
    [['copy', ...ok, '--batch-size', 'many'], /--batch-size must be an integer/],
    [['copy', ...ok, '--batch-size', '0'], /--batch-size must be an integer/],
    [['copy', ...ok, '--fast'], /Unknown option '--fast'/],
    [['verify', ...ok, '--resume'], /--resume applies to copy only/],
    [['copy', ...ok, 'extra'], /unexpected argument "extra"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDbArgs(argv)).toThrow(message);
  });

  it('exits 2 with the usage on a bad argument', () => {
    const run = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '..', 'db.ts'), 'copy', '--from', 'x'],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^db: --from must be/);
    expect(run.stderr).toContain('usage: npm run db -- <command>');
  });

  it.each([
    [
      'sqlite:/nonexistent/r16.db',
      /^db: cannot open --from sqlite:\/nonexistent\/r16\.db \(.+\): check the path/m,
    ],
    [
      'postgres://postgres:secret@127.0.0.1:1/nowhere',
      /^db: cannot open --from postgres:\/\/postgres:\*+@127\.0\.0\.1:1\/nowhere \(.*ECONNREFUSED.*\): check that PostgreSQL is running/m,
    ],
  ])('exits 1 naming a source it cannot open, %s, and what to check', (from, message) => {
    const run = spawnSync(
      process.execPath,
      [
        join(import.meta.dirname, '..', 'db.ts'),
        'copy',
        '--from',
        from,
        '--to',
        'sqlite:/nonexistent/r16-t.db',
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('secret');
  });
});
