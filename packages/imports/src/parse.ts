// Streaming CSV reader for imports: RFC 4180 (quoted fields holding commas, quotes and line
// breaks; CRLF or LF line ends), UTF-8 with an optional byte-order mark, a required header row in
// any column order.
//
// A hand-written state machine over the decoded text, chosen by measurement
// (bench/parse-bench.ts): it is several times faster than csv-parse and knows where each
// record starts, which the rejected-row reports need. Each chunk of the source is decoded once
// and scanned once; a record cut by the end of a chunk is kept (as text, capped by
// MAX_RECORD_CHARS) and scanned again with the next chunk. So memory holds one chunk, one
// partial record and the records of one chunk, whatever the file size, and the source is only
// read as fast as the consumer takes the batches (backpressure).
//
// Whole-file problems (no header, a header that is not the one expected, another delimiter, a
// record that never ends) throw CsvFormatError; a malformed record is reported as a row error
// with its line and the reading goes on.

import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** A record of the file, with its fields in the order of the caller's `columns`. */
export interface CsvRecord {
  /** The physical line (1-based) where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvRowError {
  line: number;
  reason: string;
}

/** What one chunk of the source gave, in file order. */
export interface CsvBatch {
  records: CsvRecord[];
  errors: CsvRowError[];
  /** Bytes of the source read so far (the header included). */
  bytes: number;
}

/** The file as a whole cannot be imported; `line` is where it went wrong when that is known. */
export class CsvFormatError extends Error {
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(message);
    this.name = 'CsvFormatError';
    this.line = line;
  }
}

/**
 * Longest record accepted. Past it the file almost surely has a quote left open (the rest of
 * the file would be one field), and waiting for its end would hold the file in memory.
 */
export const MAX_RECORD_CHARS = 1 << 20;

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const REPLACEMENT_CHAR = '\uFFFD';
const BOM = '\uFEFF';
/** Bytes (or characters) scanned between two yields. */
const SCAN_SLICE = 64 * 1024;

/** Delimiters people export by mistake (Excel in many locales writes `;`). */
const OTHER_DELIMITERS: ReadonlyArray<[string, string]> = [
  [';', 'semicolons'],
  ['\t', 'tabs'],
  ['|', 'pipes'],
];

/** One raw record of the tokenizer: fields as written, or why the record is malformed. */
export interface CsvRawRecord {
  line: number;
  fields: string[] | null;
  reason?: string;
}

/**
 * The state machine: text in, raw records out. `push` scans every complete record of what it
 * has and keeps the incomplete tail for the next push; `end` flushes the tail.
 */
export class CsvTokenizer {
  private pending = '';
  private line = 1;
  /**
   * Whether the text last scanned held U+FFFD, which the UTF-8 decoder puts for invalid bytes:
   * only then need the records be checked for it.
   */
  suspicious = false;
  /**
   * Whether the text last scanned held a NUL character, which PostgreSQL cannot store in text
   * (SQLite would): only then need the records be checked for it, and each holding one is
   * rejected by line on both databases.
   */
  holdsNul = false;

  push(text: string, out: CsvRawRecord[]): void {
    this.scan(this.pending.length === 0 ? text : this.pending + text, false, out);
  }

  end(out: CsvRawRecord[]): void {
    if (this.pending.length > 0) this.scan(this.pending, true, out);
    this.pending = '';
  }

  private scan(s: string, final: boolean, out: CsvRawRecord[]): void {
    this.suspicious = s.includes(REPLACEMENT_CHAR);
    this.holdsNul = s.includes('\u0000');
    const len = s.length;
    let pos = 0;
    let line = this.line;
    records: while (pos < len) {
      const recordStart = pos;
      const recordLine = line;
      const fields: string[] = [];
      for (;;) {
        if (s.charCodeAt(pos) === QUOTE) {
          // Quoted field: runs to a quote not followed by another quote ("" is a quote).
          let value = '';
          let from = pos + 1;
          let close: number;
          for (;;) {
            close = s.indexOf('"', from);
            if (close === -1 || (close + 1 === len && !final)) {
              if (final) {
                out.push({ line: recordLine, fields: null, reason: 'a quoted field is not closed' });
                pos = len;
                line += countLineFeeds(s, recordStart, len);
                break records;
              }
              this.keep(s, recordStart, recordLine);
              return;
            }
            value += s.slice(from, close);
            if (s.charCodeAt(close + 1) !== QUOTE) break;
            value += '"';
            from = close + 2;
          }
          line += countLineFeeds(s, pos, close);
          fields.push(value);
          pos = close + 1;
          const next = pos < len ? s.charCodeAt(pos) : -1;
          if (next === COMMA) {
            pos += 1;
            continue;
          }
          if (next === LF || next === -1) {
            pos += 1;
            line += next === LF ? 1 : 0;
            out.push({ line: recordLine, fields });
            continue records;
          }
          if (next === CR && pos + 1 < len && s.charCodeAt(pos + 1) === LF) {
            pos += 2;
            line += 1;
            out.push({ line: recordLine, fields });
            continue records;
          }
          if (next === CR && pos + 1 === len && !final) {
            this.keep(s, recordStart, recordLine);
            return;
          }
          // Text after a closing quote: skip the rest of the physical line and go on.
          const lf = s.indexOf('\n', pos);
          if (lf === -1 && !final) {
            this.keep(s, recordStart, recordLine);
            return;
          }
          out.push({ line: recordLine, fields: null, reason: 'text follows a closing quote' });
          pos = lf === -1 ? len : lf + 1;
          line += lf === -1 ? 0 : 1;
          continue records;
        }
        // Unquoted field: runs to a comma or a line end. A quote inside it is kept as text.
        const start = pos;
        let c = 0;
        while (pos < len) {
          c = s.charCodeAt(pos);
          if (c === COMMA || c === LF) break;
          pos += 1;
        }
        if (pos === len) {
          if (!final) {
            this.keep(s, recordStart, recordLine);
            return;
          }
          fields.push(s.slice(start, pos));
          if (!isBlank(fields)) out.push({ line: recordLine, fields });
          break records;
        }
        if (c === COMMA) {
          fields.push(s.slice(start, pos));
          pos += 1;
          continue;
        }
        // c === LF: a CR before it belongs to the line end.
        const end = pos > start && s.charCodeAt(pos - 1) === CR ? pos - 1 : pos;
        fields.push(s.slice(start, end));
        pos += 1;
        line += 1;
        if (!isBlank(fields)) out.push({ line: recordLine, fields });
        continue records;
      }
    }
    this.pending = '';
    this.line = line;
  }

  private keep(s: string, from: number, line: number): void {
    if (s.length - from > MAX_RECORD_CHARS) {
      throw new CsvFormatError(
        `the record starting at line ${line} is longer than ${MAX_RECORD_CHARS} characters: is a quote left open?`,
        line,
      );
    }
    this.pending = s.slice(from);
    this.line = line;
  }
}

/** An empty line (or one holding only a CR) is not a record. */
function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0]!.length === 0;
}

function countLineFeeds(s: string, from: number, to: number): number {
  let count = 0;
  for (let at = s.indexOf('\n', from); at !== -1 && at < to; at = s.indexOf('\n', at + 1)) count += 1;
  return count;
}

/** Bytes (or text) of a CSV file: a Readable, or any iterable of chunks. */
export type CsvSource = Readable | AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

export interface ParseCsvOptions {
  /** The columns the header must name, each once, in any order; records come in this order. */
  columns: readonly string[];
}

/**
 * Reads `source` (bytes or text) as CSV and yields, per chunk read, the records (fields in the
 * order of `options.columns`) and the malformed records. Throws CsvFormatError before the first
 * batch when the file is empty or its header is not `columns` (another delimiter included).
 * Stopping the iteration early destroys the source.
 */
export async function* parseCsv(
  source: CsvSource,
  options: ParseCsvOptions,
): AsyncGenerator<CsvBatch, void, undefined> {
  const tokenizer = new CsvTokenizer();
  const decoder = new StringDecoder('utf8');
  const raw: CsvRawRecord[] = [];
  let order: number[] | null = null;
  let identity = false;
  let bytes = 0;
  let started = false;

  const batchOf = (): CsvBatch => {
    const records: CsvRecord[] = [];
    const errors: CsvRowError[] = [];
    const suspicious = tokenizer.suspicious;
    const holdsNul = tokenizer.holdsNul;
    for (const r of raw) {
      if (order === null) {
        order = headerOrder(r, options.columns);
        identity = order.every((at, i) => at === i);
        continue;
      }
      if (r.fields === null) {
        errors.push({ line: r.line, reason: r.reason! });
      } else if (r.fields.length !== order.length) {
        errors.push({
          line: r.line,
          reason: `expected ${order.length} fields as in the header, found ${r.fields.length}`,
        });
      } else if (suspicious && r.fields.some((f) => f.includes(REPLACEMENT_CHAR))) {
        errors.push({ line: r.line, reason: 'the line is not valid UTF-8 (save the file as UTF-8)' });
      } else {
        const fields = identity ? r.fields : order.map((at) => r.fields![at]!);
        const nulAt = holdsNul ? fields.findIndex((f) => f.includes('\u0000')) : -1;
        if (nulAt >= 0) {
          errors.push({
            line: r.line,
            reason: `${options.columns[nulAt]} holds the NUL character (U+0000), which cannot be stored`,
          });
        } else {
          records.push({ line: r.line, fields });
        }
      }
    }
    raw.length = 0;
    return { records, errors, bytes };
  };

  for await (const chunk of source) {
    // A large chunk (the PostgreSQL upload store reads 1 MiB) is scanned a slice at a time, so
    // the records alive at once, and the garbage made between two yields, stay small.
    const size = typeof chunk === 'string' ? chunk.length : chunk.byteLength;
    for (let from = 0; from < size; from += SCAN_SLICE) {
      const piece = from === 0 && size <= SCAN_SLICE ? chunk : chunk.slice(from, from + SCAN_SLICE);
      let text: string;
      if (typeof piece === 'string') {
        bytes += Buffer.byteLength(piece);
        text = piece;
      } else {
        bytes += piece.length;
        text = decoder.write(piece);
      }
      if (!started) {
        if (text.length === 0) continue;
        started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(BOM.length);
      }
      tokenizer.push(text, raw);
      const batch = batchOf();
      if (batch.records.length > 0 || batch.errors.length > 0) yield batch;
    }
  }
  const tail = decoder.end();
  if (tail.length > 0) tokenizer.push(started ? tail : tail.replace(/^\uFEFF/, ''), raw);
  tokenizer.end(raw);
  const last = batchOf();
  if (order === null) {
    throw new CsvFormatError(`the file is empty: expected a header row naming ${options.columns.join(',')}`);
  }
  if (last.records.length > 0 || last.errors.length > 0) yield last;
}

/**
 * Where each expected column sits in the file. Header names are compared trimmed and
 * case-insensitively; a header that names the columns but splits on another delimiter gets its
 * own message, as does one with a column missing, unknown or repeated.
 */
function headerOrder(header: CsvRawRecord, columns: readonly string[]): number[] {
  if (header.fields === null) {
    throw new CsvFormatError(`the header row is malformed: ${header.reason}`, header.line);
  }
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const expected = `expected the columns ${columns.join(',')}`;
  if (names.length === 1) {
    for (const [delimiter, label] of OTHER_DELIMITERS) {
      if (names[0]!.includes(delimiter)) {
        throw new CsvFormatError(
          `the header is separated by ${label}, not commas: save the file as comma-separated CSV (${expected})`,
          header.line,
        );
      }
    }
  }
  const seen = new Set<string>();
  const repeated = names.filter((name) => seen.has(name) || !seen.add(name));
  const unknown = names.filter((name) => !columns.includes(name));
  const missing = columns.filter((name) => !seen.has(name));
  const problems = [
    missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    unknown.length > 0 ? `unknown ${unknown.map((n) => JSON.stringify(n)).join(', ')}` : '',
    repeated.length > 0 ? `repeated ${repeated.join(', ')}` : '',
  ].filter((p) => p !== '');
  if (problems.length > 0) {
    throw new CsvFormatError(`wrong header: ${problems.join('; ')} (${expected})`, header.line);
  }
  return columns.map((name) => names.indexOf(name));
}
