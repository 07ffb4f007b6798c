// The entry point of every pool thread. It loads the requested task module (once per thread)
// and runs its default export. Whatever happens, what goes back to the main thread is plain
// data: `{ ok: true, value }` or `{ ok: false, error: { kind, message } }`, never an Error
// instance, whose class, fields and cause would not survive the structured clone intact.
import type { TaskError, TaskReply, TaskRequest } from './pool.ts';

type TaskFunction = (input: unknown) => unknown;

const modules = new Map<string, Promise<TaskFunction>>();

function load(url: string): Promise<TaskFunction> {
  let loaded = modules.get(url);
  if (loaded === undefined) {
    loaded = import(url).then((module: { default?: unknown }) => {
      if (typeof module.default !== 'function') {
        throw new TypeError(`task module ${url} has no default export function`);
      }
      return module.default as TaskFunction;
    });
    // A module that failed to load is retried on the next task rather than cached as broken.
    loaded.catch(() => modules.delete(url));
    modules.set(url, loaded);
  }
  return loaded;
}

function toTaskError(error: unknown): TaskError {
  if (error instanceof Error) {
    const { kind } = error as Error & { kind?: unknown };
    return {
      kind: typeof kind === 'string' && kind !== '' ? kind : error.name || 'Error',
      message: error.message,
    };
  }
  const message = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  return { kind: 'TaskError', message };
}

export default async function runTask(request: TaskRequest): Promise<TaskReply> {
  try {
    const task = await load(request.url);
    return { ok: true, value: await task(request.input) };
  } catch (error) {
    return { ok: false, error: toTaskError(error) };
  }
}
