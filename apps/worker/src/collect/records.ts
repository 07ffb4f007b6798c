// Turns a source's bytes into validated metric observations, in batches, with the line each came
// from. Both formats carry the same four fields:
//
//   NDJSON  one object per line: {"model_external_id": "...", "metric": "auc",
//           "observed_at": "2026-01-01T00:00:00Z", "value": 0.81}
//   CSV     a header row naming model_external_id, metric, observed_at, value in any order
//           (other columns are ignored), then one record per line, read by the import
//           tokenizer (@offload/imports' CsvTokenizer, the project's one CSV reader): RFC 4180,
//           fields may be quoted ("a ""quoted"" field", holding commas and line breaks), CRLF or
//           LF line ends, an optional byte-order mark.
//
// Blank lines are skipped. A record that is not valid is rejected with the line it starts on and
// the reason, and reading goes on; a CSV without the four columns, or a record that never ends,
// fails as a whole (SourceFormatError). Memory holds one chunk, one partial line (or record) and
// one batch, whatever the size of the source.
import { StringDecoder } from 'node:string_decoder';
import { CsvFormatError, type CsvRawRecord, CsvTokenizer } from '@offload/imports';

export const METRIC_FIELDS = ['model_external_id', 'metric', 'observed_at', 'value'] as const;
export const SOURCE_FORMATS = ['ndjson', 'csv'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** Longer lines are refused: past this the source is not the format it claims. */
export const MAX_LINE_CHARS = 64 * 1024;

export interface MetricRecord {
  line: number;
  externalId: string;
  metric: string;
  /** Normalised to ISO-8601 UTC with milliseconds. */
  observedAt: string;
  value: number;
}

export interface RecordError {
  line: number;
  reason: string;
}

export interface RecordBatch {
  records: MetricRecord[];
  errors: RecordError[];
  /** Data lines read in this batch (records plus rejected lines). */
  read: number;
}

export class SourceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceFormatError';
  }
}

export async function* readMetricRecords(
  chunks: AsyncIterable<Buffer>,
  format: SourceFormat,
  batchSize: number,
): AsyncGenerator<RecordBatch> {
  let batch: RecordBatch = { records: [], errors: [], read: 0 };
  for await (const { line, parsed } of format === 'csv' ? csvRecords(chunks) : ndjsonRecords(chunks)) {
    batch.read += 1;
    if (typeof parsed === 'string') batch.errors.push({ line, reason: parsed });
    else {
      const record = validate(parsed, line);
      if (typeof record === 'string') batch.errors.push({ line, reason: record });
      else batch.records.push(record);
    }
    if (batch.read >= batchSize) {
      yield batch;
      batch = { records: [], errors: [], read: 0 };
    }
  }
  if (batch.read > 0) yield batch;
}

type RawRecord = Record<(typeof METRIC_FIELDS)[number], unknown>;

/** A data record of the source, or why it is malformed, with the line it starts on. */
interface SourceRecord {
  line: number;
  parsed: RawRecord | string;
}

async function* ndjsonRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<SourceRecord> {
  for await (const { line, text } of lines(chunks)) {
    if (text.trim() !== '') yield { line, parsed: fromNdjson(text) };
  }
}

async function* csvRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<SourceRecord> {
  const tokenizer = new CsvTokenizer();
  const decoder = new StringDecoder('utf8');
  const raw: CsvRawRecord[] = [];
  let columns: number[] | null = null; // the position of each METRIC_FIELDS column
  let started = false;

  function* take(): Generator<SourceRecord> {
    for (const { line, fields, reason } of raw) {
      // A line of spaces is blank too (the tokenizer skips only empty ones).
      if (fields !== null && fields.length === 1 && fields[0]!.trim() === '') continue;
      if (columns === null) {
        if (fields === null) {
          throw new SourceFormatError(
            `the CSV header (line ${line}) cannot be read (${reason}); it must name ${METRIC_FIELDS.join(', ')}`,
          );
        }
        columns = csvColumns(fields, line);
        continue;
      }
      yield { line, parsed: fields === null ? reason! : fromCsv(fields, columns) };
    }
    raw.length = 0;
  }

  function push(text: string): void {
    if (!started) {
      if (text.length === 0) return;
      started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    try {
      tokenizer.push(text, raw);
    } catch (error) {
      throw error instanceof CsvFormatError ? new SourceFormatError(error.message) : error;
    }
  }

  for await (const chunk of chunks) {
    push(decoder.write(chunk));
    yield* take();
  }
  push(decoder.end());
  tokenizer.end(raw);
  yield* take();
  if (columns === null) throw new SourceFormatError('the CSV source is empty: a header row is required');
}

async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of chunks) {
    pending += decoder.write(chunk);
    let start = 0;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
      line += 1;
      yield { line, text: stripEnd(pending.slice(start, end)) };
      start = end + 1;
    }
    pending = pending.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      throw new SourceFormatError(`line ${line + 1} is longer than ${MAX_LINE_CHARS} characters`);
    }
  }
  pending += decoder.end();
  if (pending !== '') yield { line: line + 1, text: stripEnd(pending) };
}

function stripEnd(text: string): string {
  const withoutCr = text.endsWith('\r') ? text.slice(0, -1) : text;
  return withoutCr.startsWith('\uFEFF') ? withoutCr.slice(1) : withoutCr;
}

function fromNdjson(text: string): RawRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not a JSON object';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  return value as RawRecord;
}

function csvColumns(names: readonly string[], line: number): number[] {
  const trimmed = names.map((name) => name.trim().toLowerCase());
  const missing = METRIC_FIELDS.filter((field) => !trimmed.includes(field));
  if (missing.length > 0) {
    throw new SourceFormatError(
      `the CSV header (line ${line}) lacks ${missing.join(', ')}; it must name ${METRIC_FIELDS.join(', ')}`,
    );
  }
  return METRIC_FIELDS.map((field) => trimmed.indexOf(field));
}

function fromCsv(fields: readonly string[], columns: number[]): RawRecord | string {
  const at = (i: number) => fields[columns[i]!];
  if (columns.some((column) => column >= fields.length)) {
    return `expected at least ${Math.max(...columns) + 1} fields, found ${fields.length}`;
  }
  return { model_external_id: at(0), metric: at(1), observed_at: at(2), value: at(3) };
}

const INSTANT =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?))?$/i;

function validate(raw: RawRecord, line: number): MetricRecord | string {
  // PostgreSQL cannot hold a NUL in text (the batch would fail) and SQLite would: refused alike.
  for (const field of METRIC_FIELDS) {
    const value = raw[field];
    if (typeof value === 'string' && value.includes('\u0000')) {
      return `${field} holds the NUL character (U+0000), which cannot be stored`;
    }
  }
  const externalId = text(raw.model_external_id);
  if (externalId === null || externalId.length > 200) {
    return 'model_external_id must be a non-empty string of at most 200 characters';
  }
  const metric = text(raw.metric);
  if (metric === null || metric.length > 100)
    return 'metric must be a non-empty string of at most 100 characters';
  const observed = text(raw.observed_at);
  const observedMs = observed !== null && INSTANT.test(observed) ? Date.parse(observed) : Number.NaN;
  if (!Number.isFinite(observedMs)) {
    return 'observed_at must be an ISO-8601 date or instant with a time zone (e.g. 2026-01-01T00:00:00Z)';
  }
  const value =
    typeof raw.value === 'number'
      ? raw.value
      : typeof raw.value === 'string' && raw.value.trim() !== ''
        ? Number(raw.value.trim())
        : Number.NaN;
  if (!Number.isFinite(value)) return 'value must be a finite number';
  return { line, externalId, metric, observedAt: new Date(observedMs).toISOString(), value };
}

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}
