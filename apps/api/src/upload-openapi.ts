// The OpenAPI paths of /v1/imports (routes/imports.ts), spliced into the document openapi.ts
// builds, with its helpers, so the import endpoints read like the others there. The import's
// body is the `Import` schema (schemas.ts importView).
import { IMPORT_ENTITIES } from '@offload/jobs';
import { MAX_MULTIPART_OVERHEAD_BYTES } from './upload-multipart.ts';

type JsonSchema = Record<string, unknown>;

export interface OpenApiHelpers {
  ref(name: string): JsonSchema;
  problem(description: string, headers?: JsonSchema): JsonSchema;
  json(description: string, schema: JsonSchema, headers?: JsonSchema): JsonSchema;
  /** A JSON request body of the named component schema. */
  jsonBody(name: string, required?: boolean): JsonSchema;
  /** The errors every authenticated operation may answer. */
  errors: Record<string, JsonSchema>;
  /** The errors reading a JSON body may answer (malformed, too large, not JSON). */
  bodyErrors: Record<string, JsonSchema>;
  headers: { location: JsonSchema; retryAfter: JsonSchema };
}

export function importPaths({
  ref,
  problem,
  json,
  errors,
  headers,
}: OpenApiHelpers): Record<string, JsonSchema> {
  return {
    '/v1/imports': {
      post: {
        operationId: 'createImport',
        tags: ['imports'],
        summary: 'Upload a CSV to import',
        description:
          'Streams the body into upload storage (never buffered whole) and enqueues an import.csv job. ' +
          'The body is the CSV itself (text/csv) or multipart/form-data with one file. Past MAX_UPLOAD_BYTES ' +
          'the upload is refused with 413 as soon as the limit is passed (or at once when Content-Length ' +
          'declares more), nothing of it is kept and the connection is closed. Rows are validated by the job: ' +
          'GET /v1/imports/{id} shows the counts and the first rejected rows by line.',
        parameters: [
          {
            name: 'entity',
            in: 'query',
            required: true,
            schema: { type: 'string', enum: [...IMPORT_ENTITIES] },
            description:
              'models: external_id,name,region,team,risk_tier,owner_email,status; ' +
              'validations: model_external_id,kind,status,approved_on (header row required, any order).',
          },
        ],
        requestBody: {
          required: true,
          content: {
            'text/csv': { schema: { type: 'string' } },
            'multipart/form-data': {
              schema: {
                type: 'object',
                description: `One file part (a part with a filename); other fields, up to ${MAX_MULTIPART_OVERHEAD_BYTES} bytes in all, are ignored.`,
                properties: { file: { type: 'string', contentMediaType: 'text/csv' } },
              },
            },
          },
        },
        responses: {
          '202': json('Stored and enqueued: the import.csv job.', ref('Import'), headers.location),
          '400': problem('A bad entity parameter, or a malformed multipart body (no file, two files).'),
          '413': problem('The upload is larger than MAX_UPLOAD_BYTES (`maxBytes`); nothing of it was kept.'),
          '415': problem(
            'The body is neither text/csv nor multipart/form-data, or it is compressed (Content-Encoding).',
          ),
          ...errors,
        },
      },
    },
    '/v1/imports/{id}': {
      get: {
        operationId: 'getImport',
        tags: ['imports'],
        summary: 'An import: its job, counts and first rejected rows',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': json('The import.', ref('Import')),
          '404': problem('No such import, or not the caller’s.'),
          ...errors,
        },
      },
    },
  };
}
