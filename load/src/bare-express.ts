// The bare-Express reference for the wrk knee, in a process of its own like the API: an Express 5
// app answering GET /bare with a small constant JSON body, on a free loopback port it prints as
// `PORT <n>`. Express comes from the API's own dependencies, so it is the same version.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const apiPackage = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'apps',
  'api',
  'package.json',
);
// Typed by hand: the load package does not depend on Express, and these few calls are all it makes.
interface BareApp {
  disable(setting: string): void;
  get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void;
  listen(port: number, host: string, ready: () => void): import('node:http').Server;
}
const express = createRequire(apiPackage)('express') as () => BareApp;

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get('/bare', (_req, res) => {
  res.json({ ok: true, service: 'bare' });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`PORT ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
