// Per kind: what waits (ready to run now apart from scheduled for later), what runs, what failed,
// how old the oldest ready job is, and the last hour's completed and failed jobs per minute.
// Ready and scheduled both count queued and retrying jobs (split by runAt); Retrying says how many
// of the waiting jobs are retries.
import type { QueueStats } from '../../api/live-types.ts';
import { Sparkline } from '../../components/Sparkline.tsx';
import { Table } from '../../components/Table.tsx';
import { age, count } from '../../format.ts';
import { href } from '../../route.ts';

export function QueueTable({ stats }: { stats: QueueStats }) {
  return (
    <Table
      label="Queues"
      columns={[
        'Kind',
        'Ready',
        'Scheduled',
        'Active',
        'Retrying',
        'Failed',
        'Completed',
        'Oldest ready',
        'Completed / min (1 h)',
        'Failed / min (1 h)',
      ]}
    >
      {stats.items.map((row) => {
        const series = stats.series[row.kind];
        return (
          <tr key={row.kind} aria-label={row.kind}>
            <th scope="row">
              <a href={href(['jobs'], { kind: row.kind })}>{row.kind}</a>
            </th>
            {/* Past the server's cap, scheduled was counted no further: the figures are bounds. */}
            <td
              aria-label={`${row.kind} ready`}
            >{`${row.scheduledCapped ? '≤ ' : ''}${count(row.ready)}`}</td>
            <td aria-label={`${row.kind} scheduled`}>
              {`${row.scheduledCapped ? '≥ ' : ''}${count(row.scheduled)}`}
            </td>
            <td aria-label={`${row.kind} active`}>{count(row.running)}</td>
            <td aria-label={`${row.kind} retrying`}>{count(row.retrying)}</td>
            <td aria-label={`${row.kind} failed`}>
              <a href={href(['jobs'], { kind: row.kind, state: 'failed' })}>{count(row.failed)}</a>
            </td>
            <td aria-label={`${row.kind} completed`}>{count(row.completed)}</td>
            <td>{age(row.oldestAgeSeconds)}</td>
            <td>
              <Sparkline
                label={`${row.kind} completed per minute`}
                values={series?.completed ?? []}
                color="#2f7d32"
              />
            </td>
            <td>
              <Sparkline
                label={`${row.kind} failed per minute`}
                values={series?.failed ?? []}
                color="#c62828"
              />
            </td>
          </tr>
        );
      })}
    </Table>
  );
}
