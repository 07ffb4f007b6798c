// What the parts of a load run share: the options it was given and where everything is.
import type { DatabaseChoice, InventoryReport } from './database.ts';
import type { Flow } from './scenarios.ts';
import type { Stack } from './stack.ts';

export interface LoadOptions {
  quick: boolean;
  knee: boolean;
  /** What drives the knee: Artillery's scenarios, or wrk with load/wrk/mix.lua. */
  generator: 'artillery' | 'wrk';
  db: DatabaseChoice;
  models: number;
  /** Requests per second of the mix in the measured phase. */
  rate: number;
  durationS: number;
  warmupS: number;
  apiProcesses: number;
  updateBaseline: boolean;
}

export interface StartedStack {
  stack: Stack;
  /** The served flows of the weighted mix, and of the authentication burst. */
  mix: Flow[];
  burst: Flow[];
  /** What was skipped or done before the load, for the report. */
  notes: string[];
}

export interface LoadContext {
  root: string;
  /** Composed scripts, Artillery's output and the stack's log (under .tmp/). */
  workDir: string;
  logFile: string;
  artilleryBin: string;
  processor: string;
  reportDir: string;
  apiKey: string;
  databaseUrl: string;
  dialect: 'sqlite' | 'postgres';
  databaseLabel: string;
  inventory: InventoryReport;
  /** Starts the stack, chooses the flows it serves and rebuilds the KPI snapshots. */
  start(apiProcesses: number): Promise<StartedStack>;
}
