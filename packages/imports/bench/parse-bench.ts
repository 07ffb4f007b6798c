// Which CSV parser the import uses: each candidate reads the same generated models file from
// disk as a stream and counts its records, in turn, in one process. Figures are MB/s and
// rows/s of parsing alone (no validation, no database). Run alone:
//   node packages/imports/bench/parse-bench.ts [megabytes=50]
//
// Candidates: this package's state machine (parse.ts), csv-parse (stream API, arrays, with and
// without the per-record `info` that gives line numbers), csv-parser, papaparse and uDSV
// (chunk APIs). Only parse.ts and csv-parse with `info` report where each record starts.

import { createReadStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as csvParse } from 'csv-parse';
import csvParser from 'csv-parser';
import Papa from 'papaparse';
import { inferSchema, initParser } from 'udsv';
import { parseCsv } from '../src/parse.ts';
import { generateModelsCsv, MODEL_COLUMNS } from './generate.ts';

const CHUNK = 256 * 1024;

type Candidate = [name: string, count: (path: string) => Promise<number>];

const CANDIDATES: Candidate[] = [
  [
    'parse.ts (this package)',
    async (path) => {
      let rows = 0;
      const columns = MODEL_COLUMNS.split(',');
      for await (const batch of parseCsv(createReadStream(path, { highWaterMark: CHUNK }), { columns })) {
        rows += batch.records.length;
      }
      return rows;
    },
  ],
  [
    'csv-parse 7',
    async (path) => {
      let rows = 0;
      const parser = createReadStream(path, { highWaterMark: CHUNK }).pipe(csvParse({ from_line: 2 }));
      for await (const _ of parser) rows += 1;
      return rows;
    },
  ],
  [
    'csv-parse 7, info (lines)',
    async (path) => {
      let rows = 0;
      const parser = createReadStream(path, { highWaterMark: CHUNK }).pipe(
        csvParse({ from_line: 2, info: true }),
      );
      for await (const _ of parser) rows += 1;
      return rows;
    },
  ],
  [
    'csv-parser 3',
    async (path) => {
      let rows = 0;
      const parser = createReadStream(path, { highWaterMark: CHUNK }).pipe(csvParser());
      for await (const _ of parser) rows += 1;
      return rows;
    },
  ],
  [
    'papaparse 5 (chunk)',
    (path) =>
      new Promise((resolve, reject) => {
        let rows = 0;
        Papa.parse(createReadStream(path, { highWaterMark: CHUNK }), {
          header: false,
          chunk: (results: { data: unknown[] }) => {
            rows += results.data.length;
          },
          complete: () => resolve(rows - 1),
          error: reject,
        });
      }),
  ],
  [
    'udsv 0.7 (chunk)',
    async (path) => {
      let rows = 0;
      let parser: ReturnType<typeof initParser> | null = null;
      const count = () => {
        rows += 1;
      };
      for await (const chunk of createReadStream(path, { highWaterMark: CHUNK, encoding: 'utf8' })) {
        parser ??= initParser(inferSchema(chunk as string));
        parser.chunk<string[]>(chunk as string, parser.stringArrs, count);
      }
      parser?.end();
      return rows;
    },
  ],
];

export interface ParserFigure {
  parser: string;
  rows: number;
  seconds: number;
  mbPerSecond: number;
  rowsPerSecond: number;
}

export async function runParseBench(megabytes = 50, log = console.log): Promise<ParserFigure[]> {
  const path = join(tmpdir(), `offload-parse-bench-${process.pid}.csv`);
  try {
    const file = await generateModelsCsv(path, megabytes * 1e6);
    log(`parsing ${(file.bytes / 1e6).toFixed(0)} MB, ${file.rows.toLocaleString('en-US')} rows`);
    const figures: ParserFigure[] = [];
    for (const [name, count] of CANDIDATES) {
      const t0 = performance.now();
      const rows = await count(path);
      const seconds = (performance.now() - t0) / 1000;
      if (rows !== file.rows) throw new Error(`${name} counted ${rows} rows, expected ${file.rows}`);
      const figure = {
        parser: name,
        rows,
        seconds,
        mbPerSecond: file.bytes / 1e6 / seconds,
        rowsPerSecond: rows / seconds,
      };
      figures.push(figure);
      log(
        `${name.padEnd(28)} ${figure.mbPerSecond.toFixed(0).padStart(5)} MB/s ${Math.round(figure.rowsPerSecond).toLocaleString('en-US').padStart(12)} rows/s`,
      );
    }
    return figures;
  } finally {
    rmSync(path, { force: true });
  }
}

if (import.meta.main) {
  await runParseBench(Number(process.argv[2] ?? 50));
}
