// Artillery processor: the steps the scenario files cannot say in YAML. Artillery imports this
// file into its worker (Node.js strips the types), and the scenarios name these functions.
//   jobRunning        loop condition: poll again while the captured job state is not terminal
//   markSubmitted     notes when the job was submitted
//   requireCompleted  fails the virtual user unless the job ended `completed`; records the time
//                     from submission to the poll that saw it completed
//   morePages         loop condition: follow `nextCursor` for a few pages
//   hasNextCursor     request condition: there is a next page to read
//   watchJobEvents    opens GET /v1/jobs/:id/events with node:http and waits for the terminal
//                     state event; records time to first event and to the end
//   modelsCsv         beforeRequest: a small models CSV with fresh external ids
import { request } from 'node:http';

type Vars = Record<string, unknown>;
interface Context {
  vars: Vars;
}
interface Events {
  emit(type: 'counter' | 'histogram', name: string, value: number): void;
}
type Done = (error?: Error) => void;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** A poll loop gives up after this many reads (with the 0.1 s think time, 20 s or more). */
const MAX_POLLS = 200;
const MAX_PAGES = 3;
const SSE_TIMEOUT_MS = 30_000;

export function jobRunning(context: Context, next: (more: boolean) => void): void {
  const state = context.vars.state;
  next(!TERMINAL.has(String(state)) && Number(context.vars.$loopCount ?? 0) < MAX_POLLS);
}

export function markSubmitted(context: Context, _events: Events, done: Done): void {
  context.vars.submittedAt = performance.now();
  done();
}

export function requireCompleted(context: Context, events: Events, done: Done): void {
  const state = context.vars.state;
  const submittedAt = context.vars.submittedAt;
  if (state === 'completed' && typeof submittedAt === 'number') {
    events.emit('histogram', 'offload.poll.job_done', performance.now() - submittedAt);
  }
  done(
    state === 'completed'
      ? undefined
      : new Error(`job ${String(context.vars.jobId)} ended ${String(state)}, not completed`),
  );
}

export function morePages(context: Context, next: (more: boolean) => void): void {
  const cursor = context.vars.nextCursor;
  next(typeof cursor === 'string' && cursor !== '' && Number(context.vars.$loopCount ?? 0) < MAX_PAGES);
}

/** Request condition (`ifTrue`): a page follows. */
export function hasNextCursor(vars: Vars): boolean {
  return typeof vars.nextCursor === 'string' && vars.nextCursor !== '';
}

export function watchJobEvents(context: Context, events: Events, done: Done): void {
  const started = performance.now();
  const url = new URL(
    `/v1/jobs/${encodeURIComponent(String(context.vars.jobId))}/events`,
    String(context.vars.apiTarget),
  );
  let finished = false;
  const finish = (error?: Error) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.destroy();
    if (!error) events.emit('histogram', 'offload.sse.job_done', performance.now() - started);
    events.emit('counter', error ? 'offload.sse.failed' : 'offload.sse.completed', 1);
    done(error);
  };
  const timer = setTimeout(
    () => finish(new Error(`no terminal event within ${SSE_TIMEOUT_MS} ms`)),
    SSE_TIMEOUT_MS,
  );
  const req = request(
    url,
    { headers: { accept: 'text/event-stream', authorization: `Bearer ${String(context.vars.apiKey)}` } },
    (res) => {
      events.emit('histogram', 'offload.sse.first_byte', performance.now() - started);
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.resume();
        return finish(new Error(`event stream answered ${res.statusCode} ${res.headers['content-type']}`));
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const state = terminalState(block);
          if (state === undefined) continue;
          return finish(
            state === 'completed' ? undefined : new Error(`job ended ${state} on the event stream`),
          );
        }
      });
      res.on('end', () => finish(new Error('event stream ended before a terminal state')));
    },
  );
  req.on('error', (error) => finish(error));
  req.end();
}

/** The state of an `event: state` block when it is terminal. */
function terminalState(block: string): string | undefined {
  const lines = block.split('\n');
  if (!lines.includes('event: state')) return undefined;
  const data = lines
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  try {
    const state = (JSON.parse(data) as { state?: unknown }).state;
    return typeof state === 'string' && TERMINAL.has(state) ? state : undefined;
  } catch {
    return undefined;
  }
}

const REGIONS = ['NAM', 'EMEA', 'APAC'];
const TEAMS = ['CRD', 'RET', 'MKT'];
const CSV_ROWS = 20;
let uploads = 0;

export function modelsCsv(
  params: { body?: string; headers?: Record<string, string> },
  context: Context,
  _e: Events,
  done: Done,
): void {
  uploads += 1;
  const batch = `load-${process.pid}-${Date.now().toString(36)}-${uploads}`;
  const rows = ['external_id,name,region,team,risk_tier,owner_email,status'];
  for (let i = 0; i < CSV_ROWS; i += 1) {
    const region = REGIONS[i % REGIONS.length];
    const team = `${region}-${TEAMS[i % TEAMS.length]}`;
    rows.push(
      `${batch}-${i},Load model ${i},${region},${team},tier${(i % 4) + 1},load${i}@example.com,active`,
    );
  }
  params.body = `${rows.join('\n')}\n`;
  params.headers = { ...params.headers, 'content-type': 'text/csv' };
  context.vars.csvRows = CSV_ROWS;
  done();
}
