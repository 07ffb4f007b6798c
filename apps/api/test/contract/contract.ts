// The contract checker: every response a test receives is held against the OpenAPI document the
// API serves (/v1/openapi.json) — its status must be documented for the operation, its media
// type must be one the response declares, its required headers present and valid, its body valid
// against the declared schema (JSON Schema 2020-12, Ajv's 2020 build with formats). Each check
// records which operation answered which status, so the suite can prove it exercised them all.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;

export interface Operation {
  method: string;
  path: string;
  spec: Json;
}

export interface ContractResponse {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON the tests walk into
  body: any;
}

const BASE = 'https://offload.test/schemas/';

/** `#/components/schemas/X` → an absolute id Ajv can resolve, everywhere in `value`. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        key === '$ref' && typeof item === 'string' && item.startsWith('#/components/schemas/')
          ? `${BASE}${item.slice('#/components/schemas/'.length)}`
          : rebase(item),
      ]),
    );
  }
  return value;
}

export class Contract {
  readonly document: Json;
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<unknown, ValidateFunction>();
  /** `METHOD path` → statuses seen. */
  readonly seen = new Map<string, Set<string>>();

  constructor(document: Json) {
    this.document = document;
    this.#ajv = new Ajv2020({ strict: true, allErrors: true });
    // ajv-formats' CommonJS default export, as Node's ESM loader hands it over.
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.#ajv);
    const schemas = (document.components as { schemas: Record<string, Json> }).schemas;
    for (const [name, schema] of Object.entries(schemas)) {
      this.#ajv.addSchema({ ...(rebase(schema) as Json), $id: `${BASE}${name}` });
    }
  }

  operations(): Operation[] {
    const out: Operation[] = [];
    for (const [path, item] of Object.entries(this.document.paths as Record<string, Json>)) {
      for (const [method, spec] of Object.entries(item))
        out.push({ method: method.toUpperCase(), path, spec: spec as Json });
    }
    return out;
  }

  operation(method: string, path: string): Json {
    const spec = (this.document.paths as Record<string, Record<string, Json>>)[path]?.[method.toLowerCase()];
    if (spec === undefined) throw new Error(`the document has no operation ${method} ${path}`);
    return spec;
  }

  /** Throws, naming what differs, unless `res` is an answer the document allows for the operation. */
  check(method: string, path: string, res: ContractResponse): void {
    const where = `${method} ${path} → ${res.status}`;
    const responses = this.operation(method, path).responses as Record<string, Json>;
    const spec = responses[String(res.status)];
    if (spec === undefined) {
      throw new Error(
        `${where}: status not documented (documented: ${Object.keys(responses).join(', ')}); body ${res.text.slice(0, 300)}`,
      );
    }
    const key = `${method} ${path}`;
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key)!.add(String(res.status));

    for (const [name, header] of Object.entries((spec.headers ?? {}) as Record<string, Json>)) {
      const value = res.headers.get(name);
      if (value === null) {
        if (header.required === true) throw new Error(`${where}: required header ${name} missing`);
        continue;
      }
      const schema = header.schema as Json;
      const parsed = schema.type === 'integer' && /^\d+$/.test(value) ? Number(value) : value;
      this.#validate(schema, parsed, `${where} header ${name}`);
    }

    const content = spec.content as Record<string, Json> | undefined;
    const type = res.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (content === undefined) {
      if (res.text !== '')
        throw new Error(`${where}: a body where the document declares none: ${res.text.slice(0, 200)}`);
      return;
    }
    const media = type === undefined ? undefined : content[type];
    if (media === undefined) {
      throw new Error(`${where}: Content-Type ${type} is not one of ${Object.keys(content).join(', ')}`);
    }
    const body = type!.includes('json') ? JSON.parse(res.text) : res.text;
    this.#validate(media.schema as Json, body, `${where} body`);
  }

  #validate(schema: Json, value: unknown, what: string): void {
    let validate = this.#validators.get(schema);
    if (validate === undefined) {
      validate = this.#ajv.compile(rebase(schema) as Json);
      this.#validators.set(schema, validate);
    }
    if (!validate(value)) {
      throw new Error(
        `${what} does not match the document: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`,
      );
    }
  }

  /** Every documented `operation status` that no check has seen, less `exempt` ones. */
  unexercised(exempt: (operation: Operation, status: string, response: Json) => boolean): string[] {
    const missing: string[] = [];
    for (const operation of this.operations()) {
      const seen = this.seen.get(`${operation.method} ${operation.path}`) ?? new Set<string>();
      for (const [status, response] of Object.entries(operation.spec.responses as Record<string, Json>)) {
        if (!seen.has(status) && !exempt(operation, status, response)) {
          missing.push(`${operation.method} ${operation.path} ${status}`);
        }
      }
    }
    return missing;
  }
}
