// Declaring a route names its methods once: the handlers are mounted, and any other method on
// the same path answers 405 with an `Allow` header (OPTIONS answers 204 with it), instead of
// falling through to the 404 of an unknown route. The route's pattern is recorded for logs and
// metrics, which must never label by the raw URL.
import type { Request, RequestHandler, Router } from 'express';
import { HttpProblem } from './problem.ts';

export type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';

const ALLOW_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

export type RouteHandlers = Partial<Record<Method, RequestHandler[]>>;

/** The paths declared on each router, for `scoped`. */
const declared = new WeakMap<Router, string[]>();

/** Mounts `handlers` at `path` (a full path, e.g. `/v1/jobs/:id`) on `router`. */
export function defineRoute(router: Router, path: string, handlers: RouteHandlers): void {
  declared.set(router, [...(declared.get(router) ?? []), path]);
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

/**
 * `router` (whose routes were all declared with defineRoute), entered only by requests whose path
 * can match one of its routes: the route's path when it has no parameter, else the part before
 * the first one as a prefix. Express walks every router mounted at the root layer by layer, and
 * with a dozen of them the walk cost a request to the last ones more than its handler did.
 */
export function scoped(router: Router): RequestHandler {
  const paths = (declared.get(router) ?? []).map((path) => path.toLowerCase());
  // Prefixes are read off plain `:param` paths; a wildcard or optional part would need Express's
  // own matcher, and a router without declared routes would never be entered.
  if (paths.length === 0) throw new Error('scoped: the router declares no route (use defineRoute first)');
  const unsupported = paths.find((path) => /[*{}()]/.test(path));
  if (unsupported !== undefined) throw new Error(`scoped: ${unsupported} is not a plain :param path`);
  const exact = new Set(paths.filter((path) => !path.includes(':')));
  const prefixes = paths.filter((path) => path.includes(':')).map((path) => path.slice(0, path.indexOf(':')));
  return (req, res, next) => {
    const path = matchedPath(req);
    if (exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix))) router(req, res, next);
    else next();
  };
}

/** Each request's path as Express matches it, worked out once for all the scoped routers it passes. */
const matchedPaths = new WeakMap<Request, string>();

function matchedPath(req: Request): string {
  let path = matchedPaths.get(req);
  if (path === undefined) {
    // Case-insensitive, one trailing slash ignored.
    path = req.path.toLowerCase();
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    matchedPaths.set(req, path);
  }
  return path;
}
