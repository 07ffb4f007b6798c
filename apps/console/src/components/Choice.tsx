// A labelled drop-down of plain values, with an optional "any" entry standing for no value.

export interface ChoiceProps {
  label: string;
  value: string | undefined;
  options: readonly string[];
  /** The entry for no value (e.g. "any"); none means a value is required. */
  none?: string;
  onChange(value: string): void;
}

export function Choice({ label, value, options, none, onChange }: ChoiceProps) {
  return (
    <label>
      {label}
      <select value={value ?? ''} onChange={(event) => onChange((event.target as HTMLSelectElement).value)}>
        {none !== undefined && <option value="">{none}</option>}
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}
