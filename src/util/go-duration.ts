/**
 * Go's time.Duration as Docker reads and writes it: time.ParseDuration (import's `--change
 * HEALTHCHECK` options, daemon flags and daemon.json durations) and Duration.String (messages).
 * Error texts are Go's, since clients print them.
 */
import { InvalidArgumentError } from '../errors.js';

const NS_PER_SECOND = 1_000_000_000n;

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};
const MAX_DURATION = (1n << 63n) - 1n;

/** Go's time.ParseDuration, in nanoseconds; undefined where Go returns an error. */
export function parseGoDuration(text: string): bigint | undefined {
  let s = text;
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = m?.[1] ?? '';
    const fraction = m?.[2];
    if (whole === '' && !fraction) return undefined; // no digits, e.g. ".s"
    s = s.slice(m?.[0].length ?? 0);
    let i = 0;
    while (i < s.length && !/[.0-9]/.test(s[i] ?? '')) i++;
    const unit = DURATION_UNITS[s.slice(0, i)];
    if (i === 0 || unit === undefined) return undefined;
    s = s.slice(i);
    let v = BigInt(whole || '0');
    if (v > (1n << 63n) / unit) return undefined;
    v *= unit;
    if (fraction) {
      // Go keeps as many fraction digits as fit and scales them in floating point.
      const digits = fraction.slice(0, 18).replace(/0+$/, '');
      if (digits) v += BigInt(Math.trunc(Number(digits) * (Number(unit) / 10 ** digits.length)));
      if (v > 1n << 63n) return undefined;
    }
    total += v;
    if (total > 1n << 63n) return undefined;
  }
  if (negative) return -total;
  return total > MAX_DURATION ? undefined : total;
}

/** Go's time.Duration.String of a whole number of milliseconds: `30s`, `1m30s`, `1.5s`, `500ms`, `1h0m0s`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(ms));
  if (abs < 1000) return `${sign}${abs}ms`;
  const seconds = abs % 60_000;
  const secondsText = `${Math.trunc(seconds / 1000)}${seconds % 1000 ? '.' + String(seconds % 1000).padStart(3, '0').replace(/0+$/, '') : ''}s`;
  if (abs < 60_000) return sign + secondsText;
  const minutes = Math.trunc(abs / 60_000);
  if (minutes < 60) return `${sign}${minutes}m${secondsText}`;
  return `${sign}${Math.trunc(minutes / 60)}h${minutes % 60}m${secondsText}`;
}

/**
 * Go's time.Duration.String units for the durations the operator's log shows (`850µs`, `12.5ms`,
 * `3.2s`), rounded to three decimals and never in minutes: a log line's duration, not a flag value.
 */
export function formatLogDuration(nanos: bigint): string {
  const ns = Number(nanos);
  const trim = (n: number, unit: string) => `${n.toFixed(3).replace(/\.?0+$/, '')}${unit}`;
  if (ns < 1_000) return `${ns}ns`;
  if (ns < 1_000_000) return trim(ns / 1_000, 'µs');
  if (ns < 1_000_000_000) return trim(ns / 1_000_000, 'ms');
  return trim(ns / 1_000_000_000, 's');
}

/** The longest timer Node keeps (2^31-1 ms, about 24 days); a longer one would fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Whole seconds (`90`, as dockerd's --shutdown-timeout) or a Go duration (`90s`, `1m30s`, `500ms`),
 * in whole milliseconds (rounded); a negative duration is refused.
 */
export function parseDurationMs(value: string, context = 'invalid duration'): number {
  let ms: number;
  if (/^[0-9]+$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    const nanos = parseGoDuration(value);
    if (nanos === undefined || nanos < 0n || value.startsWith('-')) {
      throw new InvalidArgumentError(`${context}: time: invalid duration ${JSON.stringify(value)}`);
    }
    ms = Math.round(Number(nanos) / 1e6);
  }
  if (!(ms <= MAX_DURATION_MS)) {
    throw new InvalidArgumentError(`${context}: duration ${JSON.stringify(value)} is longer than ${MAX_DURATION_MS} ms`);
  }
  return ms;
}
