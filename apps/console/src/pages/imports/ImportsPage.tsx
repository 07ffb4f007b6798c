// Imports: upload a CSV (models or validations) with a byte progress bar, then follow the
// import.csv job's row progress live on its event stream, then read its rejected rows by line.
// The import on show is in the URL (#/imports?id=…); the history is the import.csv jobs.
import { useEffect, useState } from 'preact/hooks';
import { api, buildUrl, describeError, type Schemas } from '../../api/client.ts';
import { followEventStream } from '../../api/events.ts';
import { invalidate, useResource } from '../../api/resource.ts';
import { uploadWithProgress } from '../../api/upload.ts';
import { Choice } from '../../components/Choice.tsx';
import { Loaded } from '../../components/Loaded.tsx';
import { ErrorMessage, Loading } from '../../components/Message.tsx';
import { Table } from '../../components/Table.tsx';
import { count, when } from '../../format.ts';
import { href, navigate, type Route } from '../../route.ts';
import { can } from '../../session.ts';
import { StateBadge } from '../jobs/StateBadge.tsx';

type ImportView = NonNullable<Awaited<ReturnType<typeof fetchImport>>>;

const ENTITIES = ['models', 'validations'] as const;

function fetchImport(id: string) {
  return api.get('/v1/imports/{id}', { path: { id } });
}

export function ImportsPage({ route }: { route: Route }) {
  const id = route.params.get('id') ?? undefined;
  const history = useResource('jobs?imports', () =>
    api.get('/v1/jobs', { query: { kind: 'import.csv', limit: 20 } as never }),
  );
  return (
    <section aria-labelledby="imports-title">
      <h2 id="imports-title">Imports</h2>
      {can('submit') && <UploadForm />}
      {id !== undefined && <ImportDetail key={id} id={id} />}
      <h3>History</h3>
      <Loaded resource={history} what="imports">
        {({ items }) => (
          <Table
            label="Import history"
            columns={['Import', 'State', 'Created', 'Finished']}
            rows={items.length}
            empty="No import yet."
          >
            {items.map((job) => (
              <tr key={job.id}>
                <td>
                  <a href={href(['imports'], { id: job.id })}>{job.id}</a>
                </td>
                <td>
                  <StateBadge state={job.state} />
                </td>
                <td>{when(job.createdAt)}</td>
                <td>{when(job.finishedAt)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
    </section>
  );
}

function UploadForm() {
  const [entity, setEntity] = useState<(typeof ENTITIES)[number]>('models');
  const [file, setFile] = useState<File | undefined>();
  const [sent, setSent] = useState<{ loaded: number; total: number } | undefined>();
  const [error, setError] = useState<string | undefined>();

  const upload = async (event: Event) => {
    event.preventDefault();
    if (file === undefined) {
      setError('Choose a CSV file first.');
      return;
    }
    setError(undefined);
    setSent({ loaded: 0, total: file.size });
    try {
      const created = await uploadWithProgress<{ id: string }>(
        buildUrl('/v1/imports', undefined, { entity }),
        file,
        'text/csv',
        (loaded, total) => setSent({ loaded, total }),
      );
      invalidate('jobs?');
      navigate(href(['imports'], { id: created.id }));
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <form onSubmit={upload} aria-label="Upload a CSV" class="filters">
      <Choice
        label="Entity"
        value={entity}
        options={ENTITIES}
        onChange={(value) => setEntity(value as (typeof ENTITIES)[number])}
      />
      <label>
        CSV file
        <input
          type="file"
          accept=".csv,text/csv"
          onChange={(event) => setFile((event.target as HTMLInputElement).files?.[0])}
        />
      </label>
      <button type="submit">Upload</button>
      {sent !== undefined && (
        <label>
          Upload progress
          <progress max={sent.total || 1} value={sent.loaded} />
          <span>
            {count(sent.loaded)} of {count(sent.total)} bytes
          </span>
        </label>
      )}
      <ErrorMessage text={error} />
    </form>
  );
}

function ImportDetail({ id }: { id: string }) {
  const resource = useResource(`import:${id}`, () => fetchImport(id));
  const [progress, setProgress] = useState<Record<string, unknown> | undefined>();
  const view = resource.data as ImportView | undefined;
  const state = view?.state;
  const running = state !== undefined && ['queued', 'active', 'retrying'].includes(state);

  // The history shows the state too: whenever this view learns a new one (an import may also
  // have ended before this view first loaded), the history is read again.
  useEffect(() => {
    if (state !== undefined) invalidate('jobs?');
  }, [state]);

  useEffect(() => {
    if (!running) return;
    const controller = new AbortController();
    let last: string | undefined = state;
    void followEventStream(
      buildUrl('/v1/jobs/{id}/events', { id }),
      (event) => {
        const data = JSON.parse(event.data) as { state?: string; progress: Record<string, unknown> | null };
        if (data.progress) setProgress(data.progress);
        if (event.event === 'state' && data.state !== last) {
          last = data.state;
          resource.reload();
        }
      },
      controller.signal,
      { finished: () => last !== undefined && !['queued', 'active', 'retrying'].includes(last) },
    ).catch(() => undefined);
    return () => controller.abort();
  }, [id, running]);

  if (view === undefined)
    return resource.error === undefined ? (
      <Loading what="the import" />
    ) : (
      <ErrorMessage text={resource.error} />
    );
  const counts = { ...view.counts, ...(running ? (progress as Schemas['Job']['progress']) : {}) } as Record<
    string,
    number | undefined
  >;
  return (
    <section aria-label="Import" class="import">
      <h3>
        Import <span class="mono">{view.id}</span> ({view.entity}) <StateBadge state={view.state} />
      </h3>
      <dl class="facts">
        <dt>Bytes read</dt>
        <dd>{count(counts.bytes)}</dd>
        <dt>Rows read</dt>
        <dd>{count(counts.read)}</dd>
        <dt>Inserted</dt>
        <dd>{count(counts.inserted)}</dd>
        <dt>Updated</dt>
        <dd>{count(counts.updated)}</dd>
        <dt>Unchanged</dt>
        <dd>{count(counts.unchanged)}</dd>
        <dt>Rejected</dt>
        <dd>{count(counts.rejected)}</dd>
      </dl>
      {view.error !== null && <ErrorMessage text={view.error.message} />}
      {view.errors.length > 0 && (
        <Table label="Rejected rows" columns={['Line', 'Reason']}>
          {view.errors.map((row) => (
            <tr key={row.line}>
              <td>{row.line}</td>
              <td>{row.reason}</td>
            </tr>
          ))}
        </Table>
      )}
      <p>
        <a href={href(['jobs', view.id])}>The import's job</a>
      </p>
    </section>
  );
}
