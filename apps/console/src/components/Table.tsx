// A labelled table with its column headers, and a sentence in place of rows when there are none.
import type { ComponentChildren } from 'preact';

export interface TableProps {
  label: string;
  columns: ReadonlyArray<string | false>;
  /** Shown as the only row when `rows` is 0. */
  empty?: string;
  rows?: number;
  children: ComponentChildren;
}

export function Table({ label, columns, empty, rows, children }: TableProps) {
  const shown = columns.filter((column): column is string => column !== false);
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {shown.map((column) => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows === 0 && empty !== undefined && (
          <tr>
            <td colSpan={shown.length}>{empty}</td>
          </tr>
        )}
        {children}
      </tbody>
    </table>
  );
}
