// One job: its figures, payload, result, error, attempts and timeline, kept live by the job's
// own event stream (GET /v1/jobs/:id/events) while the page is open, followed again after a
// blip (the page says so meanwhile); cancel and retry for keys that may submit (the server
// checks the scope again).
import { useEffect, useState } from 'preact/hooks';
import { api, buildUrl, describeError, type Job } from '../../api/client.ts';
import { followEventStream } from '../../api/events.ts';
import { invalidate, useResource } from '../../api/resource.ts';
import { JsonBlock } from '../../components/JsonBlock.tsx';
import { ErrorMessage, Loading } from '../../components/Message.tsx';
import { when } from '../../format.ts';
import { href } from '../../route.ts';
import { can } from '../../session.ts';
import { JobTimeline, type SeenChange } from './JobTimeline.tsx';
import { StateBadge } from './StateBadge.tsx';

const LIVE_STATES = new Set<Job['state']>(['queued', 'active', 'retrying']);

export function JobDetailPage({ id }: { id: string }) {
  const resource = useResource(`job:${id}`, () => api.get('/v1/jobs/{id}', { path: { id } }));
  const [seen, setSeen] = useState<SeenChange[]>([]);
  const [actionError, setActionError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [reconnecting, setReconnecting] = useState(false);
  const job = resource.data;
  const live = job !== undefined && LIVE_STATES.has(job.state);

  useEffect(() => {
    if (!live) return;
    const controller = new AbortController();
    // The job as this stream last saw it: `resource` is this render's, and its data goes stale
    // as soon as the stream puts a newer state.
    let current = job;
    void followEventStream(
      buildUrl('/v1/jobs/{id}/events', { id }),
      (event) => {
        if (event.event === 'state') {
          const fresh = JSON.parse(event.data) as Job;
          if (fresh.state !== current.state)
            setSeen((changes) => [...changes, { at: new Date().toISOString(), state: fresh.state }]);
          current = fresh;
          resource.put(fresh);
        } else if (event.event === 'progress') {
          const { progress } = JSON.parse(event.data) as { progress: Job['progress'] };
          current = { ...current, progress };
          resource.put(current);
        }
      },
      controller.signal,
      {
        finished: () => !LIVE_STATES.has(current.state),
        onStatus: (status) => setReconnecting(status === 'reconnecting'),
      },
    )
      .catch(() => {
        // The key or the job is gone: the page keeps the last figures; Reload says why.
      })
      .finally(() => setReconnecting(false));
    return () => controller.abort();
  }, [id, live]);

  const act = async (action: 'cancel' | 'retry') => {
    setBusy(true);
    setActionError(undefined);
    try {
      const path = action === 'cancel' ? '/v1/jobs/{id}/cancel' : '/v1/jobs/{id}/retry';
      const updated = await api.post(path, { path: { id } });
      resource.put(updated);
      invalidate('jobs?');
    } catch (error) {
      setActionError(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  if (job === undefined) {
    return (
      <section aria-labelledby="job-title">
        <h2 id="job-title">Job {id}</h2>
        {resource.error === undefined ? <Loading what="the job" /> : <ErrorMessage text={resource.error} />}
        <p>
          <a href={href(['jobs'])}>Back to jobs</a>
        </p>
      </section>
    );
  }

  const mayAct = can('submit');
  return (
    <section aria-labelledby="job-title">
      <h2 id="job-title">
        Job <span class="mono">{job.id}</span>
      </h2>
      {reconnecting && (
        <p class="message warning" role="status">
          Live updates were interrupted; the figures shown are the last received. Reconnecting…
        </p>
      )}
      <dl class="facts">
        <dt>Kind</dt>
        <dd>{job.kind}</dd>
        <dt>State</dt>
        <dd>
          <StateBadge state={job.state} />
        </dd>
        <dt>Attempts</dt>
        <dd>
          {job.attempts} of {job.maxAttempts}
        </dd>
        <dt>Priority</dt>
        <dd>{job.priority}</dd>
        <dt>Created</dt>
        <dd>{when(job.createdAt)}</dd>
        <dt>Finished</dt>
        <dd>{when(job.finishedAt)}</dd>
      </dl>
      <Progress job={job} />
      {mayAct && (
        <div class="actions">
          {LIVE_STATES.has(job.state) && (
            <button type="button" disabled={busy} onClick={() => void act('cancel')}>
              Cancel
            </button>
          )}
          {(job.state === 'failed' || job.state === 'cancelled') && (
            <button type="button" disabled={busy} onClick={() => void act('retry')}>
              Retry
            </button>
          )}
        </div>
      )}
      <ErrorMessage text={actionError ?? resource.error} />
      {job.error !== null && (
        <section aria-label="Error" class="json">
          <h3>Error</h3>
          <p>
            <strong>{job.error.kind}</strong>
          </p>
          <pre>{job.error.message}</pre>
        </section>
      )}
      <JsonBlock label="Payload" value={job.payload} />
      <JsonBlock label="Result" value={job.result} />
      <JobTimeline job={job} seen={seen} />
    </section>
  );
}

/** A bar when the progress says how far (done/total or percent), else its stage as text. */
function Progress({ job }: { job: Job }) {
  const progress = job.progress ?? {};
  const done = Number(progress.done ?? progress.processed ?? progress.rows ?? Number.NaN);
  const total = Number(progress.total ?? Number.NaN);
  const percent =
    job.state === 'completed'
      ? 100
      : typeof progress.percent === 'number'
        ? progress.percent
        : Number.isFinite(done) && Number.isFinite(total) && total > 0
          ? (done / total) * 100
          : undefined;
  return (
    <section aria-label="Progress" class="progress">
      <h3>Progress</h3>
      {percent !== undefined && (
        <progress aria-label="Job progress" max={100} value={Math.min(100, Math.max(0, percent))}>
          {Math.round(percent)} %
        </progress>
      )}
      <pre>
        {Object.keys(progress).length === 0 ? 'No progress reported.' : JSON.stringify(progress, null, 2)}
      </pre>
    </section>
  );
}
