/**
 * The image filters (label, reference, until, …) on Docker's filters.Args (filters/filter-args.ts),
 * with Docker 28's semantics and error texts. Nothing here knows about HTTP; errors are typed.
 */
import { InvalidArgumentError, LadingError } from '../errors.js';
import { filterValues, type FilterArgs } from '../filters/filter-args.js';
import { familiarName, familiarString, type Reference } from '../reference/reference.js';
import { goPathMatch } from '../util/go-path-match.js';
import { getTimestamp, parseTimestamps } from '../util/go-time.js';

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
