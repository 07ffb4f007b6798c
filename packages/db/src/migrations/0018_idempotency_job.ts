import type { Knex } from 'knex';

// The job an Idempotency-Key claim created. A replay by the same owner with the same body is
// answered from this id before the request's payload is checked against the present state
// (an import.csv's upload is consumed once imported, so checking it again would refuse the
// replay), and before the queue is asked at all (which would insert anew once the job was
// pruned). Null while the first request is still sending its job, and for claims stored before
// this column existed; the claim's primary key (owner, key) keeps other owners from reading it.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.text('job_id').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropColumn('job_id');
  });
}
