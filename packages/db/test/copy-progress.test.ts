// What `db copy` shows while it runs: on a terminal one line redrawn in place (bar, rows/s, time
// left), for logs plain lines (one per table, and a last one).
import { describe, expect, it } from 'vitest';
import { progressLine, streamProgress } from '../src/copy/progress.ts';

function sink(isTTY: boolean) {
  const written: string[] = [];
  const stream = { isTTY, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('db copy progress', () => {
  it('says the share done, rows/s and the time left', () => {
    expect(progressLine(2_500, 10_000, 1_000, 'models')).toBe(
      '[######..................]  25%  2,500/10,000 rows  2,500 rows/s  3 s left  (models)',
    );
    expect(progressLine(0, 10_000, 0, 'models')).toContain('? left');
    expect(progressLine(0, 0, 10, 'regions')).toContain('100%');
  });

  it('redraws one line on a terminal', () => {
    const { stream, written } = sink(true);
    const progress = streamProgress(stream);
    progress.start(10);
    progress.table('models', 10);
    progress.rows(10);
    progress.end();
    expect(written.every((w) => w.startsWith('\r\u001b[2K') || w === '\n')).toBe(true);
    expect(written.at(-2)).toContain('10/10 rows');
    expect(written.at(-1)).toBe('\n');
  });

  it('writes plain lines otherwise', () => {
    const { stream, written } = sink(false);
    const progress = streamProgress(stream);
    progress.start(10);
    progress.table('models', 4);
    progress.rows(4);
    progress.table('validations', 6);
    progress.rows(6);
    progress.end();
    expect(written.join('')).not.toContain('\r');
    expect(written.filter((w) => w.startsWith('copying'))).toEqual([
      'copying models: 4 rows\n',
      'copying validations: 6 rows\n',
    ]);
    expect(written.at(-1)).toMatch(/^\[#+\] 100% {2}10\/10 rows .*\(validations\)\n$/);
  });
});
