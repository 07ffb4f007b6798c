// Jobs: a filtered list in cursor pages. The filters and the page's cursor are in the URL, so
// a filtered page can be shared and Back returns to the previous page.
import { api } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { ErrorMessage, Loading } from '../../components/Message.tsx';
import { when } from '../../format.ts';
import { href, navigate, type Route } from '../../route.ts';
import { JOB_STATES, StateBadge } from './StateBadge.tsx';

const PAGE_SIZE = '20';

export function JobsPage({ route, kinds }: { route: Route; kinds: string[] }) {
  const kind = route.params.get('kind') ?? undefined;
  const state = route.params.get('state') ?? undefined;
  const cursor = route.params.get('cursor') ?? undefined;
  const limit = route.params.get('limit') ?? PAGE_SIZE;
  const query = { kind, state, cursor, limit } as Record<string, string | undefined>;
  const page = useResource(`jobs?${new URLSearchParams(clean(query))}`, () =>
    api.get('/v1/jobs', { query: query as never }),
  );

  const setFilter = (name: string, value: string) =>
    navigate(
      href(['jobs'], {
        kind,
        state,
        limit: limit === PAGE_SIZE ? undefined : limit,
        [name]: value || undefined,
      }),
    );

  const findById = (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('job-id') as HTMLInputElement;
    const id = input.value.trim();
    if (id !== '') navigate(href(['jobs', id]));
  };

  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      <div class="filters">
        <label>
          Kind
          <select
            value={kind ?? ''}
            onChange={(event) => setFilter('kind', (event.target as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            {kinds.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select
            value={state ?? ''}
            onChange={(event) => setFilter('state', (event.target as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            {JOB_STATES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <form onSubmit={findById} aria-label="Find a job by id">
          <label>
            Job id
            <input name="job-id" autocomplete="off" spellcheck={false} />
          </label>
          <button type="submit">Open</button>
        </form>
      </div>
      <ErrorMessage text={page.error} />
      {page.data === undefined ? (
        page.error === undefined && <Loading what="jobs" />
      ) : (
        <>
          <table aria-label="Jobs">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
                <th scope="col">Finished</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.length === 0 && (
                <tr>
                  <td colSpan={6}>No job matches these filters.</td>
                </tr>
              )}
              {page.data.items.map((job) => (
                <tr key={job.id}>
                  <td>
                    <a href={href(['jobs', job.id])}>{job.id}</a>
                  </td>
                  <td>{job.kind}</td>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td>
                    {job.attempts} / {job.maxAttempts}
                  </td>
                  <td>{when(job.createdAt)}</td>
                  <td>{when(job.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            {cursor !== undefined && (
              <a href={href(['jobs'], { kind, state, limit: limit === PAGE_SIZE ? undefined : limit })}>
                First page
              </a>
            )}
            {page.data.nextCursor !== null && (
              <a
                href={href(['jobs'], {
                  kind,
                  state,
                  limit: limit === PAGE_SIZE ? undefined : limit,
                  cursor: page.data.nextCursor,
                })}
              >
                Next page
              </a>
            )}
          </nav>
        </>
      )}
    </section>
  );
}

function clean(record: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
