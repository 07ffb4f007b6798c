// What a copy shows while it runs: on a terminal one line redrawn in place (a bar, rows/s and the
// time left); otherwise, for logs, a plain line per table and one every few seconds in between.

export interface ProgressSink {
  start(totalRows: number): void;
  table(name: string, rows: number): void;
  rows(count: number): void;
  end(): void;
}

const REDRAW_MS = 200;
const PLAIN_EVERY_MS = 5_000;
const BAR = 24;

const number = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function progressLine(done: number, total: number, elapsedMs: number, table: string): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const left = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
  const share = total > 0 ? done / total : 1;
  const filled = Math.round(share * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${number(done)}/${number(total)} rows  ${number(rate)} rows/s  ${duration(left)} left  (${table})`;
}

/** Progress on `stream`: redrawn in place when it is a terminal, plain lines otherwise. */
export function streamProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  const tty = stream.isTTY === true;
  let total = 0;
  let done = 0;
  let started = 0;
  let last = 0;
  let current = '';
  const draw = (force: boolean) => {
    const now = performance.now();
    if (!force && now - last < (tty ? REDRAW_MS : PLAIN_EVERY_MS)) return;
    last = now;
    const line = progressLine(done, total, now - started, current);
    stream.write(tty ? `\r\u001b[2K${line}` : `${line}\n`);
  };
  return {
    start(rows) {
      total = rows;
      started = performance.now();
      last = started;
    },
    table(name, rows) {
      current = name;
      if (!tty) stream.write(`copying ${name}: ${number(rows)} rows\n`);
    },
    rows(count) {
      done += count;
      draw(false);
    },
    end() {
      draw(true);
      if (tty) stream.write('\n');
    },
  };
}

export const silentProgress: ProgressSink = { start() {}, table() {}, rows() {}, end() {} };
