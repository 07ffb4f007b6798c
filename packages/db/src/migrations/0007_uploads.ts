import type { Knex } from 'knex';
import { columns } from './columns.ts';

// CSV uploads, stored in the database as ordered chunks so a worker on another machine can
// stream them back. The upload row is written first (chunks reference it); `completed_at`
// is set once the last chunk is in, so a half-received upload is never imported.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uploads', (t) => {
    const c = columns(knex, t, 'uploads');
    t.text('id').notNullable().primary();
    c.oneOf('entity', ['models', 'validations']).notNullable();
    t.bigInteger('byte_size').notNullable().defaultTo(0);
    c.instant('created_at').notNullable().defaultTo(c.now());
    c.instant('completed_at').nullable();
    t.check('"byte_size" >= 0', [], 'uploads_byte_size_check');
  });

  await knex.schema.createTable('upload_chunks', (t) => {
    t.text('upload_id').notNullable().references('id').inTable('uploads').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.binary('data').notNullable();
    t.primary(['upload_id', 'seq'], 'upload_chunks_pkey');
    t.check('"seq" >= 0', [], 'upload_chunks_seq_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('upload_chunks');
  await knex.schema.dropTable('uploads');
}
