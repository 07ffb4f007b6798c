import type { Knex } from 'knex';
import { columns } from './columns.ts';

// The API's Idempotency-Key records: the first request with a key claims it for its owner with
// a fingerprint of its body (kind included). A later request with the same key and another
// fingerprint is refused, whatever kind it names; the queue's own (kind, key) de-duplication
// then returns the job the first request created. Keys expire after a retention period, when
// the row may be claimed again; `created_at` is indexed for the purge.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    const c = columns(knex, t, 'idempotency_keys');
    t.text('owner').notNullable();
    t.text('key').notNullable();
    t.text('fingerprint').notNullable();
    c.instant('created_at').notNullable();
    t.primary(['owner', 'key'], 'idempotency_keys_pkey');
    t.index(['created_at'], 'idempotency_keys_created_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
