// What seeding needs from a database, so the sequence of steps is written once in index.ts and
// each dialect only says how. The sequence, all in one transaction:
//
//   begin → nonEmpty (refuse, unless resetting) → suspendIndexes → reset → load each table →
//   rebuildIndexes → commit → analyze
//
// Secondary indexes and foreign-key checks are suspended while the tables are filled and
// restored before commit, as pg_restore does: maintaining five B-trees and probing a parent
// table for each of millions of rows costs several times more than building each index once
// from sorted data and checking each key with one join. The schema after commit is the
// migrations' own, restored from the database's catalogue, and a rollback restores it too.

import type { SeedPlan } from './inventory.ts';
import type { SeedTable } from './tables.ts';

export interface SeedTarget {
  begin(): Promise<void>;
  /** Which of `tables` already hold rows. */
  nonEmpty(tables: readonly string[]): Promise<string[]>;
  /** Drops the secondary indexes of `tables` and stops checking their foreign keys, remembering both. */
  suspendIndexes(tables: readonly string[]): Promise<void>;
  /** Empties `tables` (children first) and restarts their ids. */
  reset(tables: readonly string[]): Promise<void>;
  /** Writes every row of `table`; returns how many. */
  load(table: SeedTable, plan: SeedPlan): Promise<number>;
  /**
   * Recreates what suspendIndexes dropped, verifies every foreign key of the loaded rows, and
   * moves id sequences past the ids written, so later inserts do not collide with them.
   */
  rebuildIndexes(tables: readonly SeedTable[]): Promise<void>;
  commit(): Promise<void>;
  /** Undoes everything since begin; safe to call in any state. */
  rollback(): Promise<void>;
  /** Refreshes the planner statistics of `tables` after the bulk load. */
  analyze(tables: readonly string[]): Promise<void>;
  release(): Promise<void>;
}
