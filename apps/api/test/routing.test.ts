// scoped(): a router mounted at the root is entered only by requests that can match one of its
// routes, and matching stays Express's (case-insensitive, one trailing slash ignored, parameters).
import type { AddressInfo } from 'node:net';
import express, { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineRoute, scoped } from '../src/routing.ts';

describe('scoped routers', () => {
  const entered: string[] = [];
  let base: string;
  let close: () => Promise<void>;

  /** A router that records every request it is entered with, before matching its routes. */
  function recording(name: string, paths: string[]): Router {
    const router = Router();
    router.use((req, _res, next) => {
      entered.push(`${name} ${req.path}`);
      next();
    });
    for (const path of paths) {
      defineRoute(router, path, { get: [(req, res) => void res.json({ router: name, params: req.params })] });
    }
    return router;
  }

  beforeAll(async () => {
    const app = express();
    app.use(scoped(recording('models', ['/v1/models', '/v1/models/:id'])));
    app.use(scoped(recording('kpi', ['/v1/kpi'])));
    app.use((_req, res) => void res.status(404).json({ missing: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close());

  const get = async (path: string) => {
    entered.length = 0;
    const res = await fetch(base + path);
    return { status: res.status, body: await res.json(), entered: [...entered] };
  };

  it('enters only the router whose routes can match', async () => {
    expect(await get('/v1/kpi')).toEqual({
      status: 200,
      body: { router: 'kpi', params: {} },
      entered: ['kpi /v1/kpi'],
    });
    expect(await get('/v1/models/42')).toEqual({
      status: 200,
      body: { router: 'models', params: { id: '42' } },
      entered: ['models /v1/models/42'],
    });
  });

  it('matches as Express does: any case, one trailing slash', async () => {
    expect((await get('/V1/KPI')).body).toEqual({ router: 'kpi', params: {} });
    expect((await get('/v1/kpi/')).body).toEqual({ router: 'kpi', params: {} });
    expect((await get('/v1/models/')).body).toEqual({ router: 'models', params: {} });
  });

  it('passes other paths by without entering any router', async () => {
    for (const path of ['/v1/kpis', '/v1', '/nope', '/v1/modelsx']) {
      const res = await get(path);
      expect(res, path).toMatchObject({ status: 404, entered: [] });
    }
  });

  it('leaves a path under a parameter prefix to the router, which may still not match it', async () => {
    expect(await get('/v1/models/1/2')).toEqual({
      status: 404,
      body: { missing: true },
      entered: ['models /v1/models/1/2'],
    });
  });

  it('refuses a router it cannot scope: no declared route, or a path beyond plain :params', () => {
    expect(() => scoped(Router())).toThrow(/declares no route/);
    const wildcard = Router();
    defineRoute(wildcard, '/v1/files/*rest', { get: [(_req, res) => void res.end()] });
    expect(() => scoped(wildcard)).toThrow(/not a plain :param path/);
  });

  it('leaves methods to the router: HEAD, OPTIONS and 405 as before', async () => {
    const head = await fetch(`${base}/v1/kpi`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const options = await fetch(`${base}/v1/kpi`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'GET, HEAD, OPTIONS']);
    const post = await fetch(`${base}/v1/kpi`, { method: 'POST' });
    expect(post.status).toBe(405);
  });
});
