// Cache: the read cache's hit ratio per family (the answering API process's counters), and,
// for admin keys, invalidating a family in every process.
import { useState } from 'preact/hooks';
import { api, describeError } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { Loaded } from '../../components/Loaded.tsx';
import { ErrorMessage } from '../../components/Message.tsx';
import { Table } from '../../components/Table.tsx';
import { count, percent } from '../../format.ts';
import { can } from '../../session.ts';

export function CachePage() {
  const stats = useResource('cache', () => api.get('/v1/cache/stats'));
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const admin = can('admin');

  const invalidateFamily = async (family: string) => {
    setError(undefined);
    try {
      await api.post('/v1/cache/invalidate', { body: { family } });
      setMessage(`The ${family} family was invalidated in every API process.`);
      stats.reload();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <section aria-labelledby="cache-title">
      <h2 id="cache-title">Cache</h2>
      <button type="button" onClick={stats.reload}>
        Refresh
      </button>
      {message !== undefined && <p role="status">{message}</p>}
      <ErrorMessage text={error} />
      <Loaded resource={stats} what="cache statistics">
        {({ families }) => (
          <Table
            label="Cache families"
            columns={['Family', 'Hit ratio', 'Hits', 'Misses', 'TTL', admin && 'Action']}
          >
            {families.map((family) => (
              <tr key={family.family}>
                <th scope="row">{family.family}</th>
                <td>
                  <meter
                    min={0}
                    max={1}
                    value={family.hitRate ?? 0}
                    aria-label={`${family.family} hit ratio`}
                  />{' '}
                  {percent(family.hitRate)}
                </td>
                <td>{count(family.hits)}</td>
                <td>{count(family.misses)}</td>
                <td>{family.ttlSeconds} s</td>
                {admin && (
                  <td>
                    <button type="button" onClick={() => void invalidateFamily(family.family)}>
                      Invalidate {family.family}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
    </section>
  );
}
