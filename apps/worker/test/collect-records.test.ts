// The collector's CSV reading (collect/records.ts) goes through the import tokenizer: quoted
// fields may hold commas, quotes and line breaks, CRLF and LF line ends mix, a byte-order mark
// is dropped, each record keeps the line it starts on, and chunks may cut anywhere (inside a
// multi-byte character included).
import { describe, expect, it } from 'vitest';
import { readMetricRecords, SourceFormatError } from '../src/collect/records.ts';

async function* chunksOf(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function readAll(text: string, size = 7) {
  const batches = [];
  for await (const batch of readMetricRecords(chunksOf(text, size), 'csv', 100)) batches.push(batch);
  return {
    records: batches.flatMap((b) => b.records),
    errors: batches.flatMap((b) => b.errors),
    read: batches.reduce((n, b) => n + b.read, 0),
  };
}

describe('collector CSV', () => {
  const source = [
    '\uFEFFnote,value,observed_at,metric,model_external_id\r\n',
    '"two\r\nlines, and ""quotes""",0.5,2026-05-01T00:00:00Z,auc,m-é\r\n',
    '\n',
    '   \n',
    ',0.25,2026-05-02,"a,b",m-😀\n',
    '"x"y,1,2026-05-03,auc,m\n',
    'only,two\n',
    '"never closed,1,2026-05-04,auc,m\n',
  ].join('');

  it.each([1, 3, 7, 4096])(
    'reads quoted, multi-line and unicode records in chunks of %i bytes',
    async (size) => {
      const { records, errors, read } = await readAll(source, size);
      expect(records).toEqual([
        { line: 2, externalId: 'm-é', metric: 'auc', observedAt: '2026-05-01T00:00:00.000Z', value: 0.5 },
        { line: 6, externalId: 'm-😀', metric: 'a,b', observedAt: '2026-05-02T00:00:00.000Z', value: 0.25 },
      ]);
      expect(errors).toEqual([
        { line: 7, reason: 'text follows a closing quote' },
        { line: 8, reason: 'expected at least 5 fields, found 2' },
        { line: 9, reason: 'a quoted field is not closed' },
      ]);
      expect(read).toBe(5);
    },
  );

  it('fails as a whole on a header that cannot be read, an empty source or a record that never ends', async () => {
    await expect(readAll('"model_external_id,metric\n')).rejects.toThrow(
      /CSV header \(line 1\) cannot be read \(a quoted field is not closed\)/,
    );
    await expect(readAll('\n\n')).rejects.toBeInstanceOf(SourceFormatError);
    const endless = `model_external_id,metric,observed_at,value\n"${'x'.repeat(1 << 20)}`;
    await expect(readAll(endless, 64 * 1024)).rejects.toThrow(/longer than .* is a quote left open\?/);
  });
});
