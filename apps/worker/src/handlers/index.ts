// The handler registry: one handler per catalog kind. The mapped type makes a catalog kind
// without a handler (or a handler for a kind the catalog lacks) a type error, so the API can
// never accept a kind no worker runs.
import type { JobKindName, PayloadOf } from '@offload/jobs';
import type { JobHandler } from './handler.ts';
import { systemEcho } from './system-echo.ts';

export type HandlerRegistry = { readonly [K in JobKindName]: JobHandler<PayloadOf<K>> };

export const HANDLERS: HandlerRegistry = {
  'system.echo': systemEcho,
};

export { type BindOptions, bindHandler } from './bind.ts';
export type { HandlerContext, JobHandler } from './handler.ts';
