// Declaring a route names its methods once: the handlers are mounted, and any other method on
// the same path answers 405 with an `Allow` header (OPTIONS answers 204 with it), instead of
// falling through to the 404 of an unknown route. The route's pattern is recorded for logs and
// metrics, which must never label by the raw URL.
import type { RequestHandler, Router } from 'express';
import { HttpProblem } from './problem.ts';

export type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';

const ALLOW_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

export type RouteHandlers = Partial<Record<Method, RequestHandler[]>>;

/** Mounts `handlers` at `path` (a full path, e.g. `/v1/jobs/:id`) on `router`. */
export function defineRoute(router: Router, path: string, handlers: RouteHandlers): void {
  const route = router.route(path);
  const allowed = new Set<string>();
  route.all((_req, res, next) => {
    res.locals.route = path;
    next();
  });
  for (const [method, chain] of Object.entries(handlers) as Array<[Method, RequestHandler[]]>) {
    route[method](...chain);
    allowed.add(method.toUpperCase());
    if (method === 'get') allowed.add('HEAD');
  }
  const allow = [...ALLOW_ORDER.filter((method) => allowed.has(method)), 'OPTIONS'].join(', ');
  route.all((req, res, next) => {
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next(new HttpProblem(405, `${req.method} is not allowed on ${path}; use ${allow}.`));
  });
}
