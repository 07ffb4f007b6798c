// Workers: every live worker process with its host, pid, kinds, running jobs and heartbeat
// age. A worker beats every 10 s; one silent for 30 s is marked stale (the API lists those heard
// from in the last minute).
import { api } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { Loaded } from '../../components/Loaded.tsx';
import { Table } from '../../components/Table.tsx';
import { since } from '../../format.ts';

const STALE_AFTER_MS = 30_000;

export function WorkersPage() {
  const workers = useResource('workers', () => api.get('/v1/workers'));
  const now = Date.now();
  return (
    <section aria-labelledby="workers-title">
      <h2 id="workers-title">Workers</h2>
      <button type="button" onClick={workers.reload}>
        Refresh
      </button>
      <Loaded resource={workers} what="workers">
        {({ items }) => (
          <Table
            label="Workers"
            columns={['Host', 'Pid', 'Kinds', 'Running', 'Heartbeat', 'Status']}
            rows={items.length}
            empty="No worker has been heard from in the last minute."
          >
            {items.map((worker) => {
              const stale = now - Date.parse(worker.lastHeartbeatAt) > STALE_AFTER_MS;
              return (
                <tr key={worker.id} class={stale ? 'stale' : ''}>
                  <td>{worker.host}</td>
                  <td>{worker.pid}</td>
                  <td>{worker.kinds.join(', ')}</td>
                  <td>
                    {worker.running} of {worker.concurrency}
                  </td>
                  <td>{since(worker.lastHeartbeatAt, now)}</td>
                  <td>{stale ? 'stale' : 'live'}</td>
                </tr>
              );
            })}
          </Table>
        )}
      </Loaded>
    </section>
  );
}
