/**
 * Docker's `filters` query parameter (api/types/filters.Args) and the image filters built on it,
 * with Docker 28's semantics and error texts. Nothing here knows about HTTP; errors are typed.
 */
import { InvalidArgumentError, LadingError } from '../errors.js';
import { familiarName, familiarString, type Reference } from '../reference/reference.js';
import { goPathMatch } from '../util/go-path-match.js';
import { getTimestamp, parseTimestamps } from '../util/go-time.js';

/** Each filter name with its values; a value maps to the bool it was sent with (`{"dangling":{"true":true}}`). */
export type FilterArgs = Map<string, Map<string, boolean>>;

const invalidFilter = (text = ''): InvalidArgumentError => new InvalidArgumentError(`invalid filter${text}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * filters.FromJSON: `{"name":{"value":true}}`, or the legacy `{"name":["value"]}`; empty for "" and
 * `null`. Anything else is Docker's bare `invalid filter`.
 */
export function parseFilters(json: string): FilterArgs {
  if (json === '') return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalidFilter();
  }
  const args = parsed === null ? new Map() : (asArgs(parsed, valueMap) ?? asArgs(parsed, valueList));
  if (!args) throw invalidFilter();
  return args;
}

/** A JSON object of filters, each read by `readValues` (a null one has no values). */
function asArgs(parsed: unknown, readValues: (values: unknown) => Map<string, boolean> | undefined): FilterArgs | undefined {
  if (!isObject(parsed)) return undefined;
  const args: FilterArgs = new Map();
  for (const [name, values] of Object.entries(parsed)) {
    const set = values === null ? new Map<string, boolean>() : readValues(values);
    if (!set) return undefined;
    args.set(name, set);
  }
  return args;
}

/** `{"value": true}`: Go's map[string]bool (null reads as false). */
function valueMap(values: unknown): Map<string, boolean> | undefined {
  if (!isObject(values) || !Object.values(values).every((f) => f === null || typeof f === 'boolean')) return undefined;
  return new Map(Object.entries(values).map(([value, flag]) => [value, flag === true]));
}

/** `["value"]`: the legacy []string (null reads as ""). */
function valueList(values: unknown): Map<string, boolean> | undefined {
  if (!Array.isArray(values) || !values.every((v) => v === null || typeof v === 'string')) return undefined;
  return new Map(values.map((v: string | null) => [v ?? '', true]));
}

/** Args.Add. */
export function addFilter(args: FilterArgs, name: string, value: string): void {
  const set = args.get(name) ?? new Map<string, boolean>();
  set.set(value, true);
  args.set(name, set);
}

/** Args.Validate: every name must be accepted. */
export function validateFilters(args: FilterArgs, accepted: ReadonlySet<string>): void {
  for (const name of args.keys()) if (!accepted.has(name)) throw invalidFilter(` '${name}'`);
}

/** Args.Get: the values of a filter, whatever bool they were sent with. */
export function filterValues(args: FilterArgs, name: string): string[] {
  return [...(args.get(name)?.keys() ?? [])];
}

/** Args.GetBoolOrDefault: `true`/`1` or `false`/`0`, not both, not neither. */
export function filterBool(args: FilterArgs, name: string, fallback: boolean): boolean {
  const values = args.get(name);
  if (!values) return fallback;
  if (values.size === 0) throw invalidFilter(` '${name}'`);
  const isFalse = values.get('0') === true || values.get('false') === true;
  const isTrue = values.get('1') === true || values.get('true') === true;
  if (isFalse === isTrue) throw invalidFilter(` '${name}=[${[...values.keys()].join(' ')}]'`);
  return isTrue;
}

// ------------------------------------------------------------------ label

export interface LabelCheck {
  key: string;
  value: string;
  onlyExists: boolean;
  negate: boolean;
}

const LABEL_MAX_BYTES = 4096;
const LABEL_KEY_SHOWN_BYTES = 64;

/** `label=k`, `label=k=v`, `label=k!=v`, `label!=k`, `label!=k=v`, checked as containerd's labels.Validate. */
export function labelChecks(args: FilterArgs): LabelCheck[] {
  const checks: LabelCheck[] = [];
  for (const name of ['label', 'label!']) {
    for (const filter of filterValues(args, name)) {
      const eq = filter.indexOf('=');
      let key = eq < 0 ? filter : filter.slice(0, eq);
      const value = eq < 0 ? '' : filter.slice(eq + 1);
      const total = Buffer.byteLength(key) + Buffer.byteLength(value);
      if (total > LABEL_MAX_BYTES) {
        const shown = Buffer.from(key).subarray(0, LABEL_KEY_SHOWN_BYTES).toString();
        throw new InvalidArgumentError(
          `label key and value length (${total} bytes) greater than maximum size (${LABEL_MAX_BYTES} bytes), key: ${shown}: invalid argument`,
        );
      }
      let negate = name === 'label!';
      if (key.endsWith('!')) {
        key = key.slice(0, -1);
        negate = !negate;
      }
      checks.push({ key, value, onlyExists: eq < 0, negate });
    }
  }
  return checks;
}

/** Whether one config's labels pass every check. */
export function labelsMatch(checks: readonly LabelCheck[], labels: Readonly<Record<string, string>> | null): boolean {
  for (const check of checks) {
    const exists = labels !== null && Object.hasOwn(labels, check.key);
    if (check.onlyExists) {
      if (exists === check.negate) return false;
      continue;
    }
    if (!exists) return false;
    if ((labels[check.key] === check.value) === check.negate) return false;
  }
  return true;
}

// ------------------------------------------------------------------ reference

/**
 * The `reference` filter on one image name: any pattern matching the familiar `name:tag` or the
 * familiar name. A malformed pattern fails the image there and then, as Docker's loop does.
 */
export function referenceMatches(patterns: readonly string[], ref: Reference): boolean {
  const full = familiarString(ref);
  const name = familiarName(ref);
  for (const pattern of patterns) {
    try {
      if (goPathMatch(pattern, full)) return true;
    } catch {
      return false;
    }
    if (safeMatch(pattern, name)) return true;
  }
  return false;
}

function safeMatch(pattern: string, name: string): boolean {
  try {
    return goPathMatch(pattern, name);
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ until

/**
 * Each `until` value as a time (nanoseconds since the epoch). Docker answers a bad value with a
 * plain error, so status 500 and Go's text.
 */
export function untilTimes(args: FilterArgs, nowNanos: bigint, localOffsetSeconds: number): bigint[] {
  return filterValues(args, 'until').map((value) => {
    try {
      return parseTimestamps(getTimestamp(value, nowNanos, localOffsetSeconds));
    } catch (err) {
      throw new LadingError('internal', err instanceof Error ? err.message : String(err));
    }
  });
}
