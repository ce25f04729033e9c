// Validators from the Docker Engine API spec (Swagger 2.0) in shared/reference, via ajv.
import { existsSync, readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { sharedReference } from './paths.js';

type Schema = Record<string, unknown>;

const SCHEMA_MAPS = new Set(['properties', 'definitions', 'patternProperties']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_ONE = new Set(['items', 'additionalProperties', 'not']);

/**
 * Swagger 2.0 schema -> JSON Schema draft-07: nullable schemas also accept null, vendor keys
 * (`x-…`) and `example` go, since strict ajv rejects unknown keywords.
 */
export function toJsonSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || key === 'example') continue;
    if (SCHEMA_MAPS.has(key)) {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toJsonSchema(v)]));
    } else if (SCHEMA_LISTS.has(key)) {
      out[key] = (value as Schema[]).map(toJsonSchema);
    } else if (SCHEMA_ONE.has(key) && typeof value === 'object' && value !== null) {
      out[key] = toJsonSchema(value as Schema);
    } else {
      out[key] = value;
    }
  }
  // The spec's errata: ImageManifestSummary.ImageData requires `UnpackedSize`, which it never defines
  // (Docker sends `Size.Unpacked`); a required name with no property is dropped.
  if (Array.isArray(out.required) && out.properties) {
    const defined = out.properties as Schema;
    out.required = (out.required as string[]).filter((n) => n in defined);
  }
  if (!nullable(schema)) return out;
  // A $ref's siblings would be checked against the value too; wrap it instead.
  if (typeof out.$ref === 'string') return { anyOf: [{ $ref: out.$ref }, { type: 'null' }] };
  if (typeof out.type === 'string') out.type = [out.type, 'null'];
  if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  return out;
}

/**
 * The spec documents Go types: a slice or a map (an array, or an object without declared properties)
 * marshals a nil value as null, so it is nullable unless marked `x-nullable: false`; anything else
 * only when marked `x-nullable: true`.
 */
function nullable(schema: Schema): boolean {
  const flag = schema['x-nullable'];
  if (typeof flag === 'boolean') return flag;
  return schema.type === 'array' || (schema.type === 'object' && schema.properties === undefined);
}

const validators = new Map<string, Ajv>();

/**
 * Why `specFile` cannot be compared with (a reason for `t.skip`), or undefined when it is there. The specs
 * are not part of the repository; LADING_TEST_REQUIRE_SPEC=1 (CI) turns their absence into a failure.
 */
export function specMissing(specFile: string): string | undefined {
  const file = sharedReference(specFile);
  if (existsSync(file)) return undefined;
  const reason = `Docker's API spec ${file} is absent (set LADING_TEST_REFERENCE_DIR to the folder holding ${specFile})`;
  if (process.env.LADING_TEST_REQUIRE_SPEC === '1') throw new Error(`LADING_TEST_REQUIRE_SPEC=1 but ${reason}`);
  return reason;
}

/** A validator for `#/definitions/<name>` of e.g. `docker-engine-api-v1.49.yaml` (check `specMissing` first). */
export function definitionValidator(specFile: string, name: string): ValidateFunction {
  let ajv = validators.get(specFile);
  if (!ajv) {
    const spec = parse(readFileSync(sharedReference(specFile), 'utf8')) as { definitions: Record<string, Schema> };
    // Formats such as "dateTime" and "int64" are Swagger's, not JSON Schema's; types still apply.
    ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true, validateFormats: false });
    ajv.addSchema(toJsonSchema({ $id: specFile, definitions: spec.definitions }));
    validators.set(specFile, ajv);
  }
  const fn = ajv.getSchema(`${specFile}#/definitions/${name}`);
  if (!fn) throw new Error(`${specFile}: no definition ${name}`);
  return fn;
}

/** Validates and returns readable errors (empty when valid); `nullAt` lists paths where null is allowed. */
export function schemaErrors(validate: ValidateFunction, value: unknown, nullAt: readonly string[] = []): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? [])
    .filter((e) => !(nullAt.includes(e.instancePath) && valueAt(value, e.instancePath) === null))
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

function valueAt(value: unknown, pointer: string): unknown {
  let v = value;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}
