// Overview: the queues, live from the tab's one statistics stream (no polling).
import { Loading } from '../../components/Message.tsx';
import { when } from '../../format.ts';
import type { SessionState } from '../../session.ts';
import { QueueTable } from './QueueTable.tsx';

export function OverviewPage({ state }: { state: SessionState }) {
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      {state.stats === undefined ? (
        <Loading what="queue statistics" />
      ) : (
        <>
          <p class="hint" aria-live="off">
            Live: measured {when(state.stats.measuredAt)}. Ready jobs could start now; scheduled ones wait for
            a later time (retries included in both).
          </p>
          <QueueTable stats={state.stats} />
        </>
      )}
    </section>
  );
}
