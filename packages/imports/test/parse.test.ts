// The CSV reader on its own: RFC 4180 quoting, line ends, the byte-order mark, line numbers of
// records spanning lines, header problems, and chunks cut anywhere (one byte at a time).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type CsvBatch, CsvFormatError, MAX_RECORD_CHARS, parseCsv } from '../src/parse.ts';

const COLUMNS = ['a', 'b', 'c'];

async function read(input: string | Buffer | Array<string | Buffer>, columns = COLUMNS) {
  const chunks = Array.isArray(input) ? input : [input];
  const batches: CsvBatch[] = [];
  for await (const batch of parseCsv(Readable.from(chunks.map((c) => Buffer.from(c))), { columns })) {
    batches.push(batch);
  }
  return {
    records: batches.flatMap((b) => b.records).map((r) => [r.line, ...r.fields]),
    errors: batches.flatMap((b) => b.errors),
    bytes: batches.at(-1)?.bytes ?? 0,
  };
}

/** The same input cut into one-byte chunks: every state must survive a chunk boundary. */
function bytewise(input: string | Buffer): Buffer[] {
  const bytes = Buffer.from(input);
  return [...bytes].map((b) => Buffer.from([b]));
}

async function formatError(input: string | Buffer): Promise<CsvFormatError> {
  const error = await read(input).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(CsvFormatError);
  return error as CsvFormatError;
}

describe('parseCsv', () => {
  it('reads LF and CRLF files alike, with or without a final line end', async () => {
    const expected = [
      [2, '1', '2', '3'],
      [3, '4', '5', '6'],
    ];
    expect((await read('a,b,c\n1,2,3\n4,5,6\n')).records).toEqual(expected);
    expect((await read('a,b,c\r\n1,2,3\r\n4,5,6\r\n')).records).toEqual(expected);
    expect((await read('a,b,c\r\n1,2,3\r\n4,5,6')).records).toEqual(expected);
    expect((await read(bytewise('a,b,c\r\n1,2,3\r\n4,5,6'))).records).toEqual(expected);
  });

  it('puts the fields in the order of the columns asked for, whatever the header order', async () => {
    const { records } = await read(' C ,a,B\nz,x,y\n');
    expect(records).toEqual([[2, 'x', 'y', 'z']]);
  });

  it('reads quoted fields holding commas, quotes and line breaks, and numbers records by their first line', async () => {
    const input = 'a,b,c\n"x, y","say ""hi""","two\nlines"\n"three\r\nlines\n!",,\nlast,"",""\n';
    const expected = [
      [2, 'x, y', 'say "hi"', 'two\nlines'],
      [4, 'three\r\nlines\n!', '', ''],
      [7, 'last', '', ''],
    ];
    expect((await read(input)).records).toEqual(expected);
    expect((await read(bytewise(input))).records).toEqual(expected);
  });

  it('strips a UTF-8 byte-order mark, even one cut across chunks', async () => {
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b,c\nä,ö,€\n')]);
    expect((await read(input)).records).toEqual([[2, 'ä', 'ö', '€']]);
    expect((await read(bytewise(input))).records).toEqual([[2, 'ä', 'ö', '€']]);
  });

  it('skips blank lines but keeps counting them', async () => {
    const { records } = await read('\na,b,c\n\n1,2,3\r\n\r\n4,5,6\n\n');
    expect(records).toEqual([
      [4, '1', '2', '3'],
      [6, '4', '5', '6'],
    ]);
  });

  it('reports malformed records by line and goes on', async () => {
    const input = 'a,b,c\n1,2\n"x"y,2,3\n1,2,3,4\n7,8,9\nok,\xff,bad utf8\n"open,2,3\n';
    const bytes = Buffer.from(input, 'latin1');
    expect(await read(bytewise(bytes))).toEqual(await read(bytes));
    const { records, errors } = await read(bytes);
    expect(records).toEqual([[5, '7', '8', '9']]);
    expect(errors).toEqual([
      { line: 2, reason: 'expected 3 fields as in the header, found 2' },
      { line: 3, reason: 'text follows a closing quote' },
      { line: 4, reason: 'expected 3 fields as in the header, found 4' },
      { line: 6, reason: 'the line is not valid UTF-8 (save the file as UTF-8)' },
      { line: 7, reason: 'a quoted field is not closed' },
    ]);
  });

  it('counts the bytes read', async () => {
    const input = 'a,b,c\n1,2,3\n';
    expect((await read(input)).bytes).toBe(Buffer.byteLength(input));
  });

  it('refuses an empty file', async () => {
    for (const input of ['', '\n\r\n', '\ufeff']) {
      expect((await formatError(input)).message).toMatch(
        /the file is empty: expected a header row naming a,b,c/,
      );
    }
  });

  it('refuses a header with a column missing, unknown or repeated', async () => {
    expect((await formatError('a,b\n1,2\n')).message).toBe(
      'wrong header: missing c (expected the columns a,b,c)',
    );
    expect((await formatError('a,b,c,d\n')).message).toMatch(/wrong header: unknown "d"/);
    expect((await formatError('a,b,c,a\n')).message).toMatch(
      /wrong header: unknown.*; repeated a|repeated a/,
    );
    expect((await formatError('a,b,c,a\n')).line).toBe(1);
  });

  it('recognises a file separated by semicolons or tabs', async () => {
    expect((await formatError('a;b;c\n1;2;3\n')).message).toMatch(
      /^the header is separated by semicolons, not commas/,
    );
    expect((await formatError('a\tb\tc\n1\t2\t3\n')).message).toMatch(
      /^the header is separated by tabs, not commas/,
    );
  });

  it('stops at a record longer than the limit instead of holding the file', async () => {
    const huge = `a,b,c\n"${'x'.repeat(MAX_RECORD_CHARS + 10)}`;
    const chunks = huge.match(/[\s\S]{1,65536}/g)!;
    const error = await read(chunks).then(
      () => undefined,
      (err: unknown) => err as CsvFormatError,
    );
    expect(error).toBeInstanceOf(CsvFormatError);
    expect(error!.message).toMatch(/record starting at line 2 is longer than/);
  });
});
