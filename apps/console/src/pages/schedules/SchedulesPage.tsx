// Schedules: every cron schedule with its time zone, the kind it sends, its next run and its last
// run (a link to the job that tick sent), paused or running; admin keys pause, resume and edit the
// cron and time zone, and the server's validation errors appear next to the field they name.
// The schedule being edited is in the URL (#/schedules?edit=<name>).
import { useState } from 'preact/hooks';
import { ApiError, api, describeError, type Schemas } from '../../api/client.ts';
import { useResource } from '../../api/resource.ts';
import { Loaded } from '../../components/Loaded.tsx';
import { ErrorMessage } from '../../components/Message.tsx';
import { Table } from '../../components/Table.tsx';
import { pretty, when } from '../../format.ts';
import { href, navigate, type Route } from '../../route.ts';
import { can } from '../../session.ts';

type Schedule = Schemas['Schedule'];

export function SchedulesPage({ route }: { route: Route }) {
  const schedules = useResource('schedules', () => api.get('/v1/schedules'));
  const editing = route.params.get('edit') ?? undefined;
  const admin = can('admin');
  return (
    <section aria-labelledby="schedules-title">
      <h2 id="schedules-title">Schedules</h2>
      <Loaded resource={schedules} what="schedules">
        {({ items }) => (
          <Table
            label="Schedules"
            columns={[
              'Name',
              'Cron',
              'Time zone',
              'Kind',
              'Payload',
              'State',
              'Next run',
              'Last run',
              admin && 'Action',
            ]}
            rows={items.length}
            empty="No schedule."
          >
            {items.map((schedule) =>
              editing === schedule.name ? (
                <tr key={schedule.name}>
                  <td colSpan={admin ? 9 : 8}>
                    <ScheduleForm schedule={schedule} onSaved={schedules.reload} />
                  </td>
                </tr>
              ) : (
                <tr key={schedule.name}>
                  <th scope="row">{schedule.name}</th>
                  <td class="mono">{schedule.cron}</td>
                  <td>{schedule.timezone}</td>
                  <td>{schedule.kind}</td>
                  <td>
                    <code>{pretty(schedule.payload)}</code>
                  </td>
                  <td>
                    <span class={`state ${schedule.paused ? 'state-retrying' : 'state-completed'}`}>
                      {schedule.paused ? 'Paused' : 'Running'}
                    </span>
                  </td>
                  <td>{schedule.paused ? 'none while paused' : when(schedule.nextRunAt)}</td>
                  <td>
                    {schedule.lastJobId === null ? (
                      when(schedule.lastRunAt)
                    ) : (
                      <a
                        href={href(['jobs', schedule.lastJobId])}
                        aria-label={`Last run of ${schedule.name}`}
                      >
                        {when(schedule.lastRunAt)}
                      </a>
                    )}
                  </td>
                  {admin && (
                    <td>
                      <a
                        href={href(['schedules'], { edit: schedule.name })}
                        aria-label={`Edit ${schedule.name}`}
                      >
                        Edit
                      </a>{' '}
                      <PauseButton
                        schedule={schedule}
                        onDone={(updated) =>
                          schedules.put({
                            items: items.map((item) => (item.name === updated.name ? updated : item)),
                            nextCursor: schedules.data?.nextCursor ?? null,
                          })
                        }
                      />
                    </td>
                  )}
                </tr>
              ),
            )}
          </Table>
        )}
      </Loaded>
    </section>
  );
}

/** Pauses a running schedule or resumes a paused one; the server answers the new view, shown as is. */
function PauseButton({ schedule, onDone }: { schedule: Schedule; onDone: (updated: Schedule) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const action = schedule.paused ? 'Resume' : 'Pause';
  const act = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const path = schedule.paused ? '/v1/schedules/{name}/resume' : '/v1/schedules/{name}/pause';
      onDone(await api.post(path, { path: { name: schedule.name } }));
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        disabled={busy}
        onClick={() => void act()}
        aria-label={`${action} ${schedule.name}`}
      >
        {action}
      </button>
      <ErrorMessage text={error} />
    </>
  );
}

function ScheduleForm({ schedule, onSaved }: { schedule: Schedule; onSaved: () => void }) {
  const [cron, setCron] = useState(schedule.cron);
  const [timezone, setTimezone] = useState(schedule.timezone);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setFieldErrors({});
    try {
      await api.put('/v1/schedules/{name}', {
        path: { name: schedule.name },
        body: {
          cron,
          timezone,
          kind: schedule.kind,
          payload: schedule.payload,
          options: schedule.options,
        } as never,
      });
      onSaved();
      navigate(href(['schedules']));
    } catch (failure) {
      const errors = failure instanceof ApiError ? (failure.problem?.errors ?? []) : [];
      const byField: Record<string, string> = {};
      for (const item of errors) {
        const field = item.pointer?.replace(/^#?\//, '').split('/')[0];
        if (field) byField[field] = byField[field] ? `${byField[field]}; ${item.detail}` : item.detail;
      }
      setFieldErrors(byField);
      if (Object.keys(byField).length === 0) setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={save} aria-label={`Edit schedule ${schedule.name}`} class="schedule-form">
      <strong>{schedule.name}</strong>
      <label>
        Cron
        <input
          value={cron}
          aria-invalid={fieldErrors.cron !== undefined}
          aria-describedby="cron-error"
          onInput={(event) => setCron((event.target as HTMLInputElement).value)}
        />
      </label>
      {fieldErrors.cron !== undefined && (
        <span id="cron-error" class="field-error" role="alert">
          {fieldErrors.cron}
        </span>
      )}
      <label>
        Time zone
        <input
          value={timezone}
          aria-invalid={fieldErrors.timezone !== undefined}
          onInput={(event) => setTimezone((event.target as HTMLInputElement).value)}
        />
      </label>
      {fieldErrors.timezone !== undefined && (
        <span class="field-error" role="alert">
          {fieldErrors.timezone}
        </span>
      )}
      <button type="submit" disabled={busy}>
        Save
      </button>
      <a href={href(['schedules'])}>Cancel editing</a>
      <ErrorMessage text={error} />
    </form>
  );
}
