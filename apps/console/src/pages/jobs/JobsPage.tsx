// Jobs: a filtered list in cursor pages. The filters and the page's cursor are in the URL, so
// a filtered page can be shared and Back returns to the previous page.
import { api } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { Choice } from '../../components/Choice.tsx';
import { Loaded } from '../../components/Loaded.tsx';
import { Table } from '../../components/Table.tsx';
import { when } from '../../format.ts';
import { href, navigate, type Route } from '../../route.ts';
import { can } from '../../session.ts';
import { JOB_STATES, StateBadge } from './StateBadge.tsx';

const PAGE_SIZE = '20';

export function JobsPage({ route, kinds }: { route: Route; kinds: string[] }) {
  const kind = route.params.get('kind') ?? undefined;
  const state = route.params.get('state') ?? undefined;
  const owner = route.params.get('owner') ?? undefined;
  const cursor = route.params.get('cursor') ?? undefined;
  const limit = route.params.get('limit') ?? PAGE_SIZE;
  const customLimit = limit === PAGE_SIZE ? undefined : limit;
  const query = { kind, state, owner, cursor, limit } as Record<string, string | undefined>;
  const page = useResource(`jobs?${new URLSearchParams(clean(query))}`, () =>
    api.get('/v1/jobs', { query: query as never }),
  );

  const setFilter = (name: string, value: string) =>
    navigate(
      href(['jobs'], {
        kind,
        state,
        owner,
        limit: customLimit,
        [name]: value || undefined,
      }),
    );

  const filterOwner = (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('owner') as HTMLInputElement;
    setFilter('owner', input.value.trim());
  };

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
        <Choice
          label="Kind"
          value={kind}
          options={kinds}
          none="any"
          onChange={(value) => setFilter('kind', value)}
        />
        <Choice
          label="State"
          value={state}
          options={JOB_STATES}
          none="any"
          onChange={(value) => setFilter('state', value)}
        />
        {can('admin') && (
          // Uncontrolled, keyed by the URL's owner: a live re-render (stats every two seconds)
          // must not wipe what is being typed, while Back still shows the URL's owner.
          <form key={owner ?? ''} onSubmit={filterOwner} aria-label="Filter by owner">
            <label>
              Owner
              <input name="owner" defaultValue={owner ?? ''} autocomplete="off" spellcheck={false} />
            </label>
            <button type="submit">Filter</button>
          </form>
        )}
        <form onSubmit={findById} aria-label="Find a job by id">
          <label>
            Job id
            <input name="job-id" autocomplete="off" spellcheck={false} />
          </label>
          <button type="submit">Open</button>
        </form>
      </div>
      <Loaded resource={page} what="jobs">
        {({ items, nextCursor }) => (
          <>
            <Table
              label="Jobs"
              columns={['Id', 'Kind', 'State', 'Attempts', 'Created', 'Finished']}
              rows={items.length}
              empty="No job matches these filters."
            >
              {items.map((job) => (
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
            </Table>
            <nav class="pager" aria-label="Job list pages">
              {cursor !== undefined && (
                <a href={href(['jobs'], { kind, state, owner, limit: customLimit })}>First page</a>
              )}
              {nextCursor !== null && (
                <a href={href(['jobs'], { kind, state, owner, limit: customLimit, cursor: nextCursor })}>
                  Next page
                </a>
              )}
            </nav>
          </>
        )}
      </Loaded>
    </section>
  );
}

function clean(record: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
