// Turns a source's bytes into validated metric observations, in batches, with the line each came
// from. Both formats carry the same four fields:
//
//   NDJSON  one object per line: {"model_external_id": "...", "metric": "auc",
//           "observed_at": "2026-01-01T00:00:00Z", "value": 0.81}
//   CSV     a header row naming model_external_id, metric, observed_at, value in any order
//           (other columns are ignored), then one record per line; fields may be quoted
//           ("a ""quoted"" field"), a quoted field may not span lines.
//
// Blank lines are skipped. A record that is not valid is rejected with its line and the reason,
// and reading goes on; a CSV without the four columns fails as a whole (SourceFormatError).
// Memory holds one chunk, one partial line and one batch, whatever the size of the source.
import { StringDecoder } from 'node:string_decoder';

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
  let columns: number[] | null = null; // CSV: the position of each METRIC_FIELDS column
  let batch: RecordBatch = { records: [], errors: [], read: 0 };
  for await (const { line, text } of lines(chunks)) {
    if (text.trim() === '') continue;
    if (format === 'csv' && columns === null) {
      columns = csvColumns(text, line);
      continue;
    }
    batch.read += 1;
    const parsed = format === 'csv' ? fromCsv(text, columns!) : fromNdjson(text);
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
  if (format === 'csv' && columns === null)
    throw new SourceFormatError('the CSV source is empty: a header row is required');
  if (batch.read > 0) yield batch;
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

type RawRecord = Record<(typeof METRIC_FIELDS)[number], unknown>;

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

function csvColumns(header: string, line: number): number[] {
  const names = splitCsvLine(header);
  if (names === null) throw new SourceFormatError(`the CSV header (line ${line}) has an unterminated quote`);
  const trimmed = names.map((name) => name.trim().toLowerCase());
  const missing = METRIC_FIELDS.filter((field) => !trimmed.includes(field));
  if (missing.length > 0) {
    throw new SourceFormatError(
      `the CSV header (line ${line}) lacks ${missing.join(', ')}; it must name ${METRIC_FIELDS.join(', ')}`,
    );
  }
  return METRIC_FIELDS.map((field) => trimmed.indexOf(field));
}

function fromCsv(text: string, columns: number[]): RawRecord | string {
  const fields = splitCsvLine(text);
  if (fields === null) return 'unterminated quoted field';
  const at = (i: number) => fields[columns[i]!];
  if (columns.some((column) => column >= fields.length)) {
    return `expected at least ${Math.max(...columns) + 1} fields, found ${fields.length}`;
  }
  return { model_external_id: at(0), metric: at(1), observed_at: at(2), value: at(3) };
}

/** Splits one CSV line (RFC 4180 quoting within the line); null for an unterminated quote. */
export function splitCsvLine(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) return null;
        value += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      const comma = text.indexOf(',', i);
      fields.push(value + text.slice(i, comma < 0 ? text.length : comma));
      if (comma < 0) return fields;
      i = comma + 1;
    } else {
      const comma = text.indexOf(',', i);
      fields.push(text.slice(i, comma < 0 ? text.length : comma));
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
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
