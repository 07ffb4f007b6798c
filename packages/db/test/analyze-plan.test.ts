// Reading plans for `db analyze`: which indexes a statement uses and which tables it reads whole,
// on both dialects' EXPLAIN output.
import { describe, expect, it } from 'vitest';
import { readPlan } from '../src/analyze/profile.ts';

const tables = new Map([
  ['models', 100_000],
  ['teams', 40],
  ['attestation_records', 270_000],
]);

describe('readPlan', () => {
  it('reads PostgreSQL index scans and sequential scans', () => {
    const plan = [
      'Limit  (cost=0.42..12.1 rows=51 width=100) (actual time=0.02..0.3 rows=51 loops=1)',
      '  ->  Index Scan using models_status_id_idx on models m  (cost=0.42..100.1 rows=51)',
      '        ->  Seq Scan on teams t  (cost=0.00..1.40 rows=40)',
      '  ->  Bitmap Index Scan on models_team_id_idx  (cost=0.00..4.3 rows=10)',
      'HashAggregate  ->  Seq Scan on public.attestation_records r',
    ].join('\n');
    expect(readPlan('postgres', plan, tables)).toEqual({
      indexes: ['models_status_id_idx', 'models_team_id_idx'],
      fullScans: ['teams', 'attestation_records'],
    });
  });

  it('reads SQLite plans, aliases back to their tables', () => {
    const sql =
      'select m.id from models as m join teams t on t.id = m.team_id where m.status = ? order by m.id';
    const plan = [
      'SCAN m USING INDEX models_status_id_idx',
      'SEARCH t USING INTEGER PRIMARY KEY (rowid=?)',
    ].join('\n');
    expect(readPlan('sqlite', plan, tables, sql)).toEqual({
      indexes: ['models_status_id_idx', 'teams primary key'],
      fullScans: [],
    });
    expect(
      readPlan(
        'sqlite',
        'SCAN r\nUSE TEMP B-TREE FOR GROUP BY',
        tables,
        'select 1 from attestation_records r',
      ),
    ).toEqual({
      indexes: [],
      fullScans: ['attestation_records'],
    });
  });

  it('does not count a first page read in table order under a LIMIT as a full scan', () => {
    const sql = 'select m.id from models m order by m.id limit ?';
    expect(readPlan('sqlite', 'SCAN m', tables, sql)).toEqual({
      indexes: ['models rowid order, stopped by LIMIT'],
      fullScans: [],
    });
    expect(readPlan('sqlite', 'SCAN m\nUSE TEMP B-TREE FOR ORDER BY', tables, `${sql}`).fullScans).toEqual([
      'models',
    ]);
  });
});
