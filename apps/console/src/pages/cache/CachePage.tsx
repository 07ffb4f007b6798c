// Cache: the read cache's hit ratio per family (the answering API process's counters), and,
// for admin keys, invalidating a family in every process.
import { useState } from 'preact/hooks';
import { api, describeError } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { ErrorMessage, Loading } from '../../components/Message.tsx';
import { count, percent } from '../../format.ts';
import { can } from '../../session.ts';

export function CachePage() {
  const stats = useResource('cache', () => api.get('/v1/cache/stats'));
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

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
      <ErrorMessage text={error ?? stats.error} />
      {stats.data === undefined ? (
        stats.error === undefined && <Loading what="cache statistics" />
      ) : (
        <table aria-label="Cache families">
          <thead>
            <tr>
              <th scope="col">Family</th>
              <th scope="col">Hit ratio</th>
              <th scope="col">Hits</th>
              <th scope="col">Misses</th>
              <th scope="col">TTL</th>
              {can('admin') && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {stats.data.families.map((family) => (
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
                {can('admin') && (
                  <td>
                    <button type="button" onClick={() => void invalidateFamily(family.family)}>
                      Invalidate {family.family}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
