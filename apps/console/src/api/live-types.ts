// The payload of the queue statistics stream's `stats` event (GET /v1/queues/stream). A stream
// has no JSON schema in the OpenAPI document, so its items are typed from /v1/queues's.
import type { Schemas } from './client.ts';

export type QueueRow = Schemas['QueueList']['items'][number];

export interface QueueStats {
  measuredAt: string;
  items: QueueRow[];
  series: Record<string, { completed: Array<number | null>; failed: Array<number | null> }>;
}
