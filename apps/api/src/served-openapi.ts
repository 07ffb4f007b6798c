// The OpenAPI document exactly as a running API serves it: the app is built in this process on
// a scratch SQLite file and /v1/openapi.json is fetched from it. The console's typed client is
// generated from this (scripts/console-build.ts), so it follows what is served, not a copy.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, migrateLatest } from '@offload/db';
import { createLogger } from '@offload/observability';
import { createQueueBackend, Queue } from '@offload/queue';
import { createApp } from './app.ts';
import { createApiServices } from './services.ts';

/** The OpenAPI document the API serves, read from an app built in this process. */
export async function servedOpenApiDocument(): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'offload-console-'));
  const databaseUrl = `sqlite:${join(scratch, 'openapi.db')}`;
  const db = createDb({ databaseUrl, poolMax: 1 });
  const backend = await createQueueBackend(databaseUrl);
  let server: Server | undefined;
  let services: ReturnType<typeof createApiServices> | undefined;
  try {
    await migrateLatest(db);
    await backend.start({ maintenance: false });
    services = createApiServices({
      db,
      queue: new Queue(backend),
      logger: createLogger({ level: 'silent', service: 'console-build' }),
      cursorSecret: 'console-build-cursor-secret',
      settings: {},
      options: { slowRequestMs: 10_000, version: version(), startedAt: Date.now() },
    });
    const app = createApp(services);
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/v1/openapi.json`);
    if (!response.ok) throw new Error(`/v1/openapi.json answered ${response.status}`);
    return JSON.stringify(await response.json(), null, 2);
  } finally {
    server?.closeAllConnections();
    if (server !== undefined) await new Promise((resolve) => server!.close(resolve));
    services?.close();
    await backend.stop();
    await db.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
