import type { Knex } from 'knex';
import { columns } from './columns.ts';

// API keys: only a hash of the secret is stored; the key is shown once, when created.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    const c = columns(knex, t, 'api_keys');
    t.increments('id');
    t.text('name').notNullable();
    t.text('owner').notNullable();
    t.text('key_hash').notNullable().unique({ indexName: 'api_keys_key_hash_unique' });
    t.text('scopes').notNullable().defaultTo(''); // space-separated, e.g. `jobs:write admin`
    c.instant('created_at').notNullable().defaultTo(c.now());
    c.instant('revoked_at').nullable();
    c.instant('last_used_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_keys');
}
