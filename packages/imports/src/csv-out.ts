// Writing CSV back out (exports, rejected-row reports). Imports store values exactly as given,
// `=SUM(A1)` included; the danger is only when a spreadsheet opens a file we wrote and runs
// such a value as a formula ("CSV injection"). So every CSV the product writes goes through
// toCsvRow, which prefixes those values with a quote, as OWASP recommends.

/** First characters a spreadsheet treats as the start of a formula (tab and CR too, per OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export type CsvValue = string | number | boolean | null | undefined;

/**
 * A text value made safe to open in a spreadsheet: `=1+1` becomes `'=1+1`. Numbers are not
 * text and are written as they are (a negative number stays a number).
 */
export function neutraliseCsvValue(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * One CSV record with its CRLF line end (RFC 4180): text neutralised, then quoted when it holds
 * a comma, a quote or a line break; null and undefined as empty fields.
 */
export function toCsvRow(values: readonly CsvValue[]): string {
  let row = '';
  for (let i = 0; i < values.length; i += 1) {
    if (i > 0) row += ',';
    row += field(values[i]);
  }
  return `${row}\r\n`;
}

function field(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const safe = neutraliseCsvValue(value);
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
