import { InvalidArgumentError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import { goJsonSyntaxError } from '../util/go-json-syntax.js';
import { versionAtLeast } from './api-version.js';

/** Docker's httputils.BoolValue: empty, 0, no, false and none (any case, trimmed) are false. */
export function boolValue(value: string | null): boolean {
  const s = (value ?? '').trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

/** Docker's httputils.BoolValueOrDefault: the default when the parameter is absent. */
export function boolValueOrDefault(query: URLSearchParams, key: string, fallback: boolean): boolean {
  const value = query.get(key);
  return value === null || value === '' ? fallback : boolValue(value);
}

const PLATFORM_FIELDS: Record<string, 'string' | 'string[]'> = {
  architecture: 'string',
  os: 'string',
  'os.version': 'string',
  'os.features': 'string[]',
  variant: 'string',
};

/** Docker's httputils.DecodePlatform: a JSON OCI platform, with its error texts. */
export function decodePlatform(json: string): Platform {
  const syntaxError = goJsonSyntaxError(json);
  if (syntaxError) throw new InvalidArgumentError(`failed to parse platform: ${syntaxError}`);
  const parsed: unknown = JSON.parse(json);
  const p: Platform = { architecture: '', os: '' };
  if (parsed !== null) {
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InvalidArgumentError(
        `failed to parse platform: json: cannot unmarshal ${goJsonType(parsed)} into Go value of type v1.Platform`,
      );
    }
    for (const [key, value] of Object.entries(parsed)) {
      const want = PLATFORM_FIELDS[key];
      if (!want || value === null) continue;
      const ok = want === 'string' ? typeof value === 'string' : Array.isArray(value) && value.every((v) => typeof v === 'string');
      if (!ok) {
        throw new InvalidArgumentError(
          `failed to parse platform: json: cannot unmarshal ${goJsonType(value)} into Go struct field Platform.${key} of type ${want === 'string' ? 'string' : '[]string'}`,
        );
      }
      (p as unknown as Record<string, unknown>)[key] = value;
    }
  }
  const hasOptional = !!p.variant || !!p['os.version'] || (p['os.features']?.length ?? 0) > 0;
  if (!p.os && !p.architecture && hasOptional) {
    throw new InvalidArgumentError('optional platform fields provided, but OS and Architecture are missing');
  }
  if (!p.os || !p.architecture) throw new InvalidArgumentError('both OS and Architecture must be provided');
  return p;
}

function goJsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/**
 * `platform` of `GET /images/get` and `POST /images/load`: none before 1.48; one at 1.48-1.51 (more
 * is Docker 28.5's 400); from 1.52 any number, each a JSON OCI platform (Docker 29.7).
 */
export function platformList(query: URLSearchParams, version: string): Platform[] {
  if (!versionAtLeast(version, '1.48')) return [];
  const values = query.getAll('platform');
  if (!versionAtLeast(version, '1.52')) {
    if (values.length > 1) throw new InvalidArgumentError('multiple platform parameters not supported');
    return values[0] ? [decodePlatform(values[0])] : [];
  }
  return values.map(decodePlatform);
}
