// What happened to a job, in order: the instants the API keeps (created, due, started, finished)
// and the state changes this page saw live on the job's event stream.
import type { Job } from '../../api/client.ts';
import { when } from '../../format.ts';

export interface SeenChange {
  at: string;
  state: Job['state'];
}

export function JobTimeline({ job, seen }: { job: Job; seen: SeenChange[] }) {
  const steps: Array<{ at: string; what: string }> = [
    { at: job.createdAt, what: 'created' },
    ...(job.runAt !== job.createdAt ? [{ at: job.runAt, what: 'due to run' }] : []),
    ...(job.startedAt ? [{ at: job.startedAt, what: `started (attempt ${job.attempts})` }] : []),
    ...(job.finishedAt ? [{ at: job.finishedAt, what: `finished: ${job.state}` }] : []),
    ...seen.map((change) => ({ at: change.at, what: `now ${change.state} (seen live)` })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return (
    <section aria-label="Timeline">
      <h3>Timeline</h3>
      <ol class="timeline">
        {steps.map((step, index) => (
          <li key={index}>
            <time dateTime={step.at}>{when(step.at)}</time> {step.what}
          </li>
        ))}
      </ol>
    </section>
  );
}
