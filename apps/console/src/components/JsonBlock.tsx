// A JSON value shown as text (never markup): whatever a payload or an error holds stays inert.
import { pretty } from '../format.ts';

export function JsonBlock({ label, value }: { label: string; value: unknown }) {
  return (
    <section class="json" aria-label={label}>
      <h3>{label}</h3>
      {value === null || value === undefined ? <p>—</p> : <pre>{pretty(value)}</pre>}
    </section>
  );
}
