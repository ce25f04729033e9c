/**
 * Docker's `filters` query parameter, api/types/filters.Args: parsing (with Docker 28's error texts),
 * validation and the matchers. The image filters (images/image-filters.ts) and the event filter
 * (events/event-filter.ts) are built on it. Nothing here knows about HTTP; errors are typed.
 */
import { InvalidArgumentError } from '../errors.js';

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

/** Args.ExactMatch: no value set for `name`, or `source` is one of them (sent as true). */
export function exactMatch(filters: FilterArgs, name: string, source: string): boolean {
  const values = filters.get(name);
  if (!values || values.size === 0) return true;
  return values.get(source) === true;
}

/** Args.FuzzyMatch: ExactMatch, or `source` starts with one of the values. */
export function fuzzyMatch(filters: FilterArgs, name: string, source: string): boolean {
  if (exactMatch(filters, name, source)) return true;
  for (const prefix of filters.get(name)?.keys() ?? []) if (source.startsWith(prefix)) return true;
  return false;
}

/** Args.MatchKVList: every `k` or `k=v` value of `name` is among `sources`. */
export function matchKVList(filters: FilterArgs, name: string, sources: Readonly<Record<string, string>>): boolean {
  const values = filters.get(name);
  if (!values || values.size === 0) return true;
  if (Object.keys(sources).length === 0) return false;
  for (const value of values.keys()) {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    if (!Object.hasOwn(sources, key)) return false;
    if (eq >= 0 && sources[key] !== value.slice(eq + 1)) return false;
  }
  return true;
}
