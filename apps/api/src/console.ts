// GET /console — the operator console's static files (apps/console, built by Vite into
// apps/console/dist by `npm run setup` and `npm start`), from the API's own origin so the
// console's requests need no CORS. Every answer carries a Content-Security-Policy that allows
// scripts, styles and connections from this origin only and no inline script at all, so text
// from the API that slipped into markup still could not run. The hashed assets are cached for a
// year; index.html never is, so a new build is picked up on the next load.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, Router } from 'express';
import { HttpProblem } from './problem.ts';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const DEFAULT_DIRECTORY = fileURLToPath(new URL('../../console/dist/', import.meta.url));

export function consoleRouter(directory: string = DEFAULT_DIRECTORY): Router {
  const router = Router();
  const headers: RequestHandler = (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
  router.use(
    '/console',
    headers,
    (req, res, next) => {
      // Relative asset URLs need the trailing slash ('/console' and '/console/' both reach here).
      if (req.originalUrl.split('?')[0] === '/console') {
        res.redirect(301, '/console/');
        return;
      }
      if (!existsSync(directory)) {
        next(new HttpProblem(503, 'The console is not built: run `npm run setup` (or `npm start`).'));
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        next(new HttpProblem(405, `${req.method} is not allowed on the console; use GET.`));
        return;
      }
      next();
    },
    express.static(directory, {
      index: 'index.html',
      redirect: false,
      setHeaders: (res, path) => {
        res.setHeader(
          'Cache-Control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  return router;
}
