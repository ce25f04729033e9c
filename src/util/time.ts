/**
 * Timestamps as Go writes time.Time with RFC3339Nano: fractional seconds without trailing zeros
 * (none when zero), the offset kept as parsed, `Z` for UTC.
 */

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Reformats an RFC 3339 timestamp the way Go re-marshals it; undefined when it is not one. */
export function goRfc3339Nano(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, date, clock, fraction = '', zone = 'Z'] = m;
  if (Number.isNaN(Date.parse(`${date}T${clock}Z`))) return undefined;
  const frac = fraction.replace(/0+$/, '');
  const offset = zone === 'Z' || zone === 'z' || zone === '+00:00' || zone === '-00:00' ? 'Z' : zone;
  return `${date}T${clock}${frac ? '.' + frac : ''}${offset}`;
}

/** Seconds since the epoch of an RFC 3339 timestamp, or 0 when it is not one. */
export function unixSeconds(value: string | undefined): number {
  if (!value) return 0;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

let lastNanos = 0n;

/** Now, in UTC with nanosecond digits; strictly increasing within the process. */
export function nowRfc3339Nano(): string {
  let nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  const seconds = nanos / 1_000_000_000n;
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${frac ? '.' + frac : ''}Z`;
}

/** The zero time.Time as Go formats it; Docker answers it for a missing `Created` below API 1.44. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
