// "Retry failed" and "Cancel queued" for the Jobs page's current filter: a dialog first counts
// what matches (the endpoint's dry run, bounded: past its limit it says "at least"), the operator
// confirms, and the dialog then says what was done. Shown only to a key that may act (`submit`);
// the server refuses the actions with 403 anyway.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, describeError, type Schemas } from '../../api/client.ts';
import { invalidate } from '../../api/resource.ts';
import { ErrorMessage } from '../../components/Message.tsx';
import { can } from '../../session.ts';

export interface BulkFilter {
  kind?: string | undefined;
  owner?: string | undefined;
  createdFrom?: string | undefined;
  createdBefore?: string | undefined;
}

type Action = 'retry' | 'cancel';
type Result = Schemas['BulkJobsResult'];

const WORDS: Record<Action, { button: string; which: string; done: string; verb: string }> = {
  retry: { button: 'Retry failed', which: 'failed', done: 'Retried', verb: 'Retry' },
  cancel: { button: 'Cancel queued', which: 'queued', done: 'Cancelled', verb: 'Cancel' },
};

export function BulkActions({ filter, state }: { filter: BulkFilter; state: string | undefined }) {
  const [action, setAction] = useState<Action | undefined>();
  if (!can('submit')) return null;
  // Each action only touches its states: offered when the list's state filter can show them.
  const offers: Action[] = [];
  if (state === undefined || state === 'failed') offers.push('retry');
  if (state === undefined || state === 'queued' || state === 'retrying') offers.push('cancel');
  if (offers.length === 0) return null;
  return (
    <section class="actions" aria-label="Bulk actions">
      {offers.map((offer) => (
        <button key={offer} type="button" onClick={() => setAction(offer)}>
          {WORDS[offer].button}
        </button>
      ))}
      {action !== undefined && (
        <BulkDialog action={action} filter={filter} onClose={() => setAction(undefined)} />
      )}
    </section>
  );
}

function BulkDialog({
  action,
  filter,
  onClose,
}: {
  action: Action;
  filter: BulkFilter;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [counted, setCounted] = useState<Result | undefined>();
  const [done, setDone] = useState<Result | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const words = WORDS[action];
  const path = action === 'retry' ? '/v1/jobs/retry-failed' : '/v1/jobs/cancel-queued';
  const body = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));

  useEffect(() => {
    dialog.current?.showModal();
    let live = true;
    api
      .post(path, { body: { ...body, dryRun: true } })
      .then((result) => live && setCounted(result))
      .catch((failure: unknown) => live && setError(describeError(failure)));
    return () => {
      live = false;
    };
  }, []);

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setDone(await api.post(path, { body }));
      invalidate('jobs?');
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  const jobs = (n: number) => `${n.toLocaleString('en')} ${words.which} job${n === 1 ? '' : 's'}`;
  return (
    <dialog ref={dialog} aria-labelledby="bulk-title" onClose={onClose}>
      <h3 id="bulk-title">{words.button} jobs</h3>
      <p class="hint">{describeFilter(filter)}</p>
      {done !== undefined ? (
        <p role="status">
          {words.done} {jobs(done.count)}.
          {done.more && ' The limit of one action was reached: more may match; run it again for the rest.'}
        </p>
      ) : counted === undefined ? (
        error === undefined && <p aria-live="polite">Counting the matching jobs…</p>
      ) : (
        <p role="status">
          {counted.more
            ? `At least ${jobs(counted.count)} match; one action takes ${counted.count.toLocaleString('en')}.`
            : `${jobs(counted.count)} match.`}
        </p>
      )}
      <ErrorMessage text={error} />
      <div class="actions">
        {done === undefined && counted !== undefined && counted.count > 0 && (
          <button type="button" disabled={busy} onClick={() => void confirm()}>
            {words.verb} {jobs(counted.count)}
          </button>
        )}
        <button type="button" onClick={() => dialog.current?.close()}>
          {done === undefined ? 'Back' : 'Close'}
        </button>
      </div>
    </dialog>
  );
}

function describeFilter(filter: BulkFilter): string {
  const parts = [
    filter.kind === undefined ? 'every kind' : `kind ${filter.kind}`,
    filter.owner === undefined ? undefined : `owner ${filter.owner}`,
    filter.createdFrom === undefined ? undefined : `created from ${filter.createdFrom}`,
    filter.createdBefore === undefined ? undefined : `created before ${filter.createdBefore}`,
  ];
  return `Matching: ${parts.filter((part) => part !== undefined).join(', ')}.`;
}
