// A job's state as a word with a colour: the colour helps, the word carries the meaning.
import type { Job } from '../../api/client.ts';

export const JOB_STATES: ReadonlyArray<Job['state']> = [
  'queued',
  'active',
  'retrying',
  'completed',
  'failed',
  'cancelled',
];

export function StateBadge({ state }: { state: Job['state'] }) {
  return <span class={`state state-${state}`}>{state}</span>;
}
