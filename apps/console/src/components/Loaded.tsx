// What a resource shows while it loads, when it failed, and once it has data (kept, under the
// error, when a refresh fails).
import type { ComponentChildren } from 'preact';
import type { Resource } from '../api/resource.ts';
import { ErrorMessage, Loading } from './Message.tsx';

export interface LoadedProps<T> {
  resource: Resource<T>;
  /** "jobs", "the report": completes "Loading …". */
  what: string;
  children: (data: T) => ComponentChildren;
}

export function Loaded<T>({ resource, what, children }: LoadedProps<T>) {
  return (
    <>
      <ErrorMessage text={resource.error} />
      {resource.data !== undefined
        ? children(resource.data)
        : resource.error === undefined && <Loading what={what} />}
    </>
  );
}
