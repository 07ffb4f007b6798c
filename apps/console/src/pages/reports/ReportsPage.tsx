// Reports, all precomputed by rebuild jobs and read from the API's cache: compliance by region
// (chart and table, one KPI read per region the compliance report names), the KPI of a chosen
// scope (region and team codes in the URL), regional approvals, and attestation cycles in
// cursor pages (the cursor in the URL as well).
import { api, type Schemas } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { Loaded } from '../../components/Loaded.tsx';
import { ErrorMessage } from '../../components/Message.tsx';
import { StackedBars } from '../../components/StackedBars.tsx';
import { Table } from '../../components/Table.tsx';
import { count, percent } from '../../format.ts';
import { href, navigate, type Route } from '../../route.ts';

const BUCKET_COLORS = { compliant: '#2f7d32', atRisk: '#f2a900', nonCompliant: '#c62828' };

export function ReportsPage({ route }: { route: Route }) {
  const region = route.params.get('region') ?? undefined;
  const team = route.params.get('team') ?? undefined;
  const cycles = route.params.get('cycles') ?? undefined;
  const compliance = useResource('report:compliance', () => api.get('/v1/reports/regional-compliance'));
  const codes = compliance.data?.regions.map((row) => row.region) ?? [];
  const byRegion = useResource(`kpi:regions:${codes.join(',')}`, () =>
    Promise.all(codes.map((code) => api.get('/v1/kpi', { query: { region: code } }))),
  );

  const setScope = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const value = (name: string) =>
      (form.elements.namedItem(name) as HTMLInputElement).value.trim() || undefined;
    navigate(href(['reports'], { region: value('region'), team: value('team'), cycles }));
  };

  return (
    <section aria-labelledby="reports-title">
      <h2 id="reports-title">Reports</h2>

      <h3>Compliance by region</h3>
      <ErrorMessage text={byRegion.error} />
      {byRegion.data !== undefined && byRegion.data.length > 0 && (
        <>
          <StackedBars
            label="Models per compliance bucket, by region"
            categories={byRegion.data.map((kpi) => kpi.scope.region ?? '')}
            series={[
              {
                label: 'compliant',
                color: BUCKET_COLORS.compliant,
                values: byRegion.data.map((kpi) => kpi.byBucket.compliant),
              },
              {
                label: 'at risk',
                color: BUCKET_COLORS.atRisk,
                values: byRegion.data.map((kpi) => kpi.byBucket.atRisk),
              },
              {
                label: 'non-compliant',
                color: BUCKET_COLORS.nonCompliant,
                values: byRegion.data.map((kpi) => kpi.byBucket.nonCompliant),
              },
            ]}
          />
          <Table
            label="KPI by region"
            columns={[
              'Region',
              'Active models',
              'Compliant',
              'At risk',
              'Non-compliant',
              '% compliant',
              'As of',
            ]}
          >
            {byRegion.data.map((kpi) => (
              <tr key={kpi.scope.region}>
                <th scope="row">
                  <a href={href(['reports'], { region: kpi.scope.region ?? undefined, cycles })}>
                    {kpi.scope.region}
                  </a>
                </th>
                <td>{count(kpi.activeModels)}</td>
                <td>{count(kpi.byBucket.compliant)}</td>
                <td>{count(kpi.byBucket.atRisk)}</td>
                <td>{count(kpi.byBucket.nonCompliant)}</td>
                <td>{kpi.pctCompliant.toFixed(1)} %</td>
                <td>{kpi.asOf}</td>
              </tr>
            ))}
          </Table>
        </>
      )}

      <h3>KPI of a scope</h3>
      {/* Uncontrolled, keyed by the URL's scope: a re-render must not wipe what is being typed. */}
      <form key={`${region ?? ''}/${team ?? ''}`} onSubmit={setScope} aria-label="KPI scope" class="filters">
        <label>
          Region code
          <input name="region" defaultValue={region ?? ''} autocomplete="off" />
        </label>
        <label>
          Team code
          <input name="team" defaultValue={team ?? ''} autocomplete="off" />
        </label>
        <button type="submit">Show</button>
      </form>
      <ScopeKpi region={region} team={team} />

      <h3>Regional approvals</h3>
      <Loaded resource={compliance} what="the compliance report">
        {({ regions }) => (
          <Table
            label="Regional compliance"
            columns={[
              'Region',
              'Required',
              'Approved',
              'Pending',
              'Rejected',
              'Approval rate',
              'Average lag (days)',
              'Max lag (days)',
            ]}
          >
            {regions.map((row) => (
              <tr key={row.region}>
                <th scope="row">
                  {row.regionName} ({row.region})
                </th>
                <td>{count(row.required)}</td>
                <td>{count(row.approved)}</td>
                <td>{count(row.pending)}</td>
                <td>{count(row.rejected)}</td>
                <td>{percent(row.approvalRate)}</td>
                <td>{row.avgLagDays?.toFixed(1) ?? '—'}</td>
                <td>{row.maxLagDays ?? '—'}</td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>

      <h3>Attestation cycles</h3>
      <Cycles cursor={cycles} region={region} team={team} />
    </section>
  );
}

function ScopeKpi({ region, team }: { region: string | undefined; team: string | undefined }) {
  const kpi = useResource(`kpi:${region ?? ''}:${team ?? ''}`, () =>
    api.get('/v1/kpi', { query: { region, team } }),
  );
  return (
    <Loaded resource={kpi} what="the KPI">
      {(data) => <KpiSummary kpi={data} region={region} team={team} />}
    </Loaded>
  );
}

function KpiSummary({
  kpi,
  region,
  team,
}: {
  kpi: Schemas['Kpi'];
  region: string | undefined;
  team: string | undefined;
}) {
  const statuses = Object.entries(kpi.byStatus);
  return (
    <>
      <p>
        {region === undefined && team === undefined
          ? 'Whole inventory'
          : `Region ${region ?? 'any'}, team ${team ?? 'any'}`}
        : {count(kpi.activeModels)} active models, {kpi.pctCompliant.toFixed(1)} % compliant, as of {kpi.asOf}
        .
      </p>
      <table aria-label="KPI by status">
        <thead>
          <tr>
            {statuses.map(([status]) => (
              <th key={status} scope="col">
                {status.replace(/_/g, ' ')}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {statuses.map(([status, value]) => (
              <td key={status}>{count(value)}</td>
            ))}
          </tr>
        </tbody>
      </table>
    </>
  );
}

function Cycles({
  cursor,
  region,
  team,
}: {
  cursor: string | undefined;
  region: string | undefined;
  team: string | undefined;
}) {
  const page = useResource(`cycles:${cursor ?? ''}`, () =>
    api.get('/v1/attestation-cycles', { query: { cursor, limit: 10 } as never }),
  );
  return (
    <Loaded resource={page} what="attestation cycles">
      {({ items, nextCursor }) => (
        <>
          <Table
            label="Attestation cycles"
            columns={['Cycle', 'Opens', 'Closes', 'Total', 'Attested', 'Pending', 'Exception', 'Completion']}
          >
            {items.map((cycle) => (
              <tr key={cycle.id}>
                <th scope="row">{cycle.name}</th>
                <td>{cycle.opensOn}</td>
                <td>{cycle.closesOn}</td>
                <td>{count(cycle.total)}</td>
                <td>{count(cycle.attested)}</td>
                <td>{count(cycle.pending)}</td>
                <td>{count(cycle.exception)}</td>
                <td>
                  <meter
                    min={0}
                    max={100}
                    value={cycle.completionPct}
                    aria-label={`${cycle.name} completion`}
                  />{' '}
                  {cycle.completionPct.toFixed(1)} %
                </td>
              </tr>
            ))}
          </Table>
          <nav class="pager" aria-label="Cycle pages">
            {cursor !== undefined && <a href={href(['reports'], { region, team })}>First cycles</a>}
            {nextCursor !== null && (
              <a href={href(['reports'], { region, team, cycles: nextCursor })}>More cycles</a>
            )}
          </nav>
        </>
      )}
    </Loaded>
  );
}
