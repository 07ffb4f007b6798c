import { resolve } from 'node:path';
import { ConfigError } from './errors.ts';

export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

const ALLOWED = 'sqlite:<path> or postgres://user:password@host:port/database';

/**
 * Reads `sqlite:<path>` (relative paths resolve against the working directory, `sqlite::memory:`
 * stays in memory) or `postgres://…` / `postgresql://…`.
 */
export function parseDatabaseUrl(url: string, variable = 'DATABASE_URL'): DatabaseTarget {
  const text = url.trim();
  if (text.startsWith('sqlite:')) {
    // `sqlite:///abs/file.db` is a common spelling of `sqlite:/abs/file.db`.
    const raw = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (raw === '') throw invalid(variable, url, 'the sqlite path is empty');
    return { kind: 'sqlite', path: raw === ':memory:' ? raw : resolve(raw) };
  }
  if (/^postgres(ql)?:\/\//i.test(text)) {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw invalid(variable, url, 'it is not a valid URL');
    }
    // A Unix socket is spelled `postgres:///db?host=/run/postgresql`: a host either way.
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw invalid(variable, url, 'it names no host');
    }
    return { kind: 'postgres', url: text };
  }
  throw invalid(variable, url);
}

/** Hides the password of a connection URL, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not parseable: still hide anything between `user:` and `@`.
    return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
  }
}

function invalid(variable: string, url: string, why?: string): ConfigError {
  const reason = why === undefined ? '' : ` (${why})`;
  return new ConfigError([
    {
      variable,
      message: `${variable} must be ${ALLOWED}${reason} (got ${JSON.stringify(redactUrl(url))})`,
    },
  ]);
}
