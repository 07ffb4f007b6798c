// A TCP proxy the tests put between the API and PostgreSQL: cutting it (every connection reset,
// new ones refused) is what a database restart or a network partition looks like to the pool.
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createTestDb } from '@offload/db/testing';
import { startTestApi, type TestApi } from './harness.ts';

/** A TCP proxy to `target` that can be cut and restored on the same port. */
export class CuttableProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

/** A test API on its own PostgreSQL database, reaching it through a proxy the test can cut. */
export async function startProxiedApi(): Promise<{
  api: TestApi;
  proxy: CuttableProxy;
  close(): Promise<void>;
}> {
  const testDb = await createTestDb('postgres');
  const target = new URL(testDb.databaseUrl);
  const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.up();
  const proxied = new URL(testDb.databaseUrl);
  proxied.port = String(proxy.port);
  const api = await startTestApi('postgres', { testDb, databaseUrl: proxied.toString() });
  return {
    api,
    proxy,
    async close() {
      await proxy.up().catch(() => undefined);
      await api.close();
      await proxy.down();
      await testDb.destroy();
    },
  };
}
