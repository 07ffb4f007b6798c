// Jobs: a filtered list in cursor pages (kind, state, owner, created range, the start of an id),
// with bulk actions over the same filter. The filters and the page's cursor are in the URL, so a
// filtered page can be shared and Back returns to the previous page.
import { api } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { Choice } from '../../components/Choice.tsx';
import { Loaded } from '../../components/Loaded.tsx';
import { Table } from '../../components/Table.tsx';
import { when } from '../../format.ts';
import { href, navigate, type Route } from '../../route.ts';
import { can } from '../../session.ts';
import { BulkActions } from './BulkActions.tsx';
import { JOB_STATES, StateBadge } from './StateBadge.tsx';

const PAGE_SIZE = '20';
const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function JobsPage({ route, kinds }: { route: Route; kinds: string[] }) {
  const kind = route.params.get('kind') ?? undefined;
  const state = route.params.get('state') ?? undefined;
  const owner = route.params.get('owner') ?? undefined;
  const createdFrom = route.params.get('from') ?? undefined;
  const createdBefore = route.params.get('before') ?? undefined;
  const idPrefix = route.params.get('id') ?? undefined;
  const cursor = route.params.get('cursor') ?? undefined;
  const limit = route.params.get('limit') ?? PAGE_SIZE;
  const customLimit = limit === PAGE_SIZE ? undefined : limit;
  const query = { kind, state, owner, createdFrom, createdBefore, idPrefix, cursor, limit } as Record<
    string,
    string | undefined
  >;
  // The filters a link keeps (the cursor aside).
  const filters = {
    kind,
    state,
    owner,
    from: createdFrom,
    before: createdBefore,
    id: idPrefix,
    limit: customLimit,
  };
  const page = useResource(`jobs?${new URLSearchParams(clean(query))}`, () =>
    api.get('/v1/jobs', { query: query as never }),
  );

  const setFilters = (changes: Record<string, string | undefined>) =>
    navigate(href(['jobs'], { ...filters, ...changes }));
  const setFilter = (name: string, value: string) => setFilters({ [name]: value || undefined });

  const filterOwner = (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('owner') as HTMLInputElement;
    setFilter('owner', input.value.trim());
  };

  // A whole id opens the job; the start of one lists the jobs whose id starts so. (These inputs
  // are uncontrolled, remounted when the URL's filter changes: a re-render while typing, as each
  // statistics tick makes, must not reset what is being typed.)
  const findById = (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('job-id') as HTMLInputElement;
    const id = input.value.trim();
    if (FULL_ID.test(id)) navigate(href(['jobs', id]));
    else setFilter('id', id);
  };

  const filterCreated = (event: Event) => {
    event.preventDefault();
    const form = (event.currentTarget as HTMLFormElement).elements;
    const instant = (name: string) => {
      const value = (form.namedItem(name) as HTMLInputElement).value;
      return value === '' ? undefined : new Date(value).toISOString();
    };
    setFilters({ from: instant('created-from'), before: instant('created-before') });
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
        <form onSubmit={filterCreated} aria-label="Filter by creation time">
          <InstantInput label="Created from" name="created-from" iso={createdFrom} />
          <InstantInput label="Created before" name="created-before" iso={createdBefore} />
          <button type="submit">Apply</button>
        </form>
        <form onSubmit={findById} aria-label="Find jobs by id">
          <label>
            Job id
            <input
              key={idPrefix}
              name="job-id"
              defaultValue={idPrefix ?? ''}
              placeholder="whole id, or its start"
              autocomplete="off"
              spellcheck={false}
            />
          </label>
          <button type="submit">Search</button>
        </form>
      </div>
      <BulkActions filter={{ kind, owner, createdFrom, createdBefore }} state={state} />
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
              {cursor !== undefined && <a href={href(['jobs'], filters)}>First page</a>}
              {nextCursor !== null && (
                <a href={href(['jobs'], { ...filters, cursor: nextCursor })}>Next page</a>
              )}
            </nav>
          </>
        )}
      </Loaded>
    </section>
  );
}

/** A datetime-local input showing `iso`, remounted when it changes (see findById). */
function InstantInput({ label, name, iso }: { label: string; name: string; iso: string | undefined }) {
  return (
    <label>
      {label}
      <input key={iso} name={name} type="datetime-local" step="1" defaultValue={localInput(iso)} />
    </label>
  );
}

/** An ISO instant as a datetime-local input shows it: the browser's local time, to the second. */
function localInput(iso: string | undefined): string {
  if (iso === undefined) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

function clean(record: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
