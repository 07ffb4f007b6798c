import type { Knex } from 'knex';

// The owner (API key owner) who uploaded each CSV, so that only they can import it: POST /v1/jobs
// refuses an import.csv naming another owner's upload, and the worker refuses a job whose owner
// is not the upload's. Null for uploads stored before this column existed.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uploads', (t) => {
    t.text('owner').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uploads', (t) => {
    t.dropColumn('owner');
  });
}
