import { describe, expect, it } from 'vitest';
import { neutraliseCsvValue, toCsvRow } from '../src/csv-out.ts';
import { parseCsv } from '../src/parse.ts';

describe('toCsvRow', () => {
  it('neutralises text that a spreadsheet would run as a formula', () => {
    expect(toCsvRow(['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tx', 'plain', 'a=b'])).toBe(
      "'=1+1,'+SUM(A1),'-2+3,'@cmd,'\tx,plain,a=b\r\n",
    );
    expect(neutraliseCsvValue('=HYPERLINK("x")')).toBe(`'=HYPERLINK("x")`);
  });

  it('writes numbers, booleans and nulls as values, negative numbers unprefixed', () => {
    expect(toCsvRow([-5, 1.5, true, null, undefined, ''])).toBe('-5,1.5,true,,,\r\n');
  });

  it('quotes fields holding commas, quotes or line breaks, after neutralising', () => {
    expect(toCsvRow(['a,b', 'say "hi"', 'two\nlines', '=1,2'])).toBe(
      `"a,b","say ""hi""","two\nlines","'=1,2"\r\n`,
    );
  });

  it('round-trips through the import parser', async () => {
    const values = ['x, y', 'q"uote', 'multi\r\nline'];
    const text = toCsvRow(['a', 'b', 'c']) + toCsvRow(values);
    const records = [];
    for await (const batch of parseCsv([text], { columns: ['a', 'b', 'c'] })) records.push(...batch.records);
    expect(records).toEqual([{ line: 2, fields: values }]);
  });
});
