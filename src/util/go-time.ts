/**
 * Go's time.Time as Docker reads and writes it. Reading: Go's time.Parse (for the layouts Docker
 * uses), Docker's timetypes.GetTimestamp / ParseTimestamps for `since`/`until` filter values, and
 * Go's RFC 3339 unmarshalling of image configs' `created`; error texts are Go's, since clients print
 * them, and times are nanoseconds since the epoch as bigints (Go compares them to the nanosecond).
 * Writing: RFC3339Nano as Go marshals it.
 */
import { parseGoDuration } from './go-duration.js';

const NS_PER_SECOND = 1_000_000_000n;

// ------------------------------------------------------------------ time.Parse

type Std = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fraction' | 'zone';
type Chunk = { literal: string } | { std: Std; text: string };

const STD_TOKENS: Array<[string, Std]> = [
  ['Z07:00', 'zone'],
  ['.999999999', 'fraction'],
  ['2006', 'year'],
  ['01', 'month'],
  ['02', 'day'],
  ['15', 'hour'],
  ['04', 'minute'],
  ['05', 'second'],
];

/** Splits a layout made of the elements Docker's layouts use into literals and elements. */
function chunksOf(layout: string): Chunk[] {
  const chunks: Chunk[] = [];
  let literal = '';
  for (let i = 0; i < layout.length; ) {
    const token = STD_TOKENS.find(([text]) => layout.startsWith(text, i));
    if (token) {
      if (literal) chunks.push({ literal });
      literal = '';
      chunks.push({ std: token[1], text: token[0] });
      i += token[0].length;
    } else {
      literal += layout[i];
      i++;
    }
  }
  if (literal) chunks.push({ literal });
  return chunks;
}

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_NANO = '2006-01-02T15:04:05.999999999Z07:00';

class ParseError extends Error {}

/** Go's time package quote(): ASCII printable kept (with `"` and `\` escaped), every other byte as \xNN. */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code >= 0x80) {
      for (const byte of Buffer.from(ch, 'utf8')) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    } else {
      out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
    }
  }
  return out + '"';
}

const isDigit = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

/** Go's getnum: one or two digits (`fixed`: exactly two). */
function getNum(s: string, fixed: boolean): { n: number; rest: string } | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : { n: Number(s[0]), rest: s.slice(1) };
  return { n: Number(s.slice(0, 2)), rest: s.slice(2) };
}

/** A `.` or `,` and digits at the start of `v`: Go's parseNanoseconds (nine digits kept) and the rest. */
function fraction(v: string): { nsec: number; rest: string } | undefined {
  if (v.length < 2 || !(v[0] === '.' || v[0] === ',') || !isDigit(v, 1)) return undefined;
  let n = 1;
  while (isDigit(v, n)) n++;
  const kept = Math.min(n, 10);
  return { nsec: Number(v.slice(1, kept)) * 10 ** (10 - kept), rest: v.slice(n) };
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Go's time.Parse (defaultOffset 0) and time.ParseInLocation with a fixed zone (defaultOffset its
 * offset in seconds), for layouts built from 2006 01 02 15 04 05 .999999999 Z07:00 and literals.
 * Returns nanoseconds since the epoch; throws with Go's ParseError text.
 */
export function goParseTime(layout: string, value: string, defaultOffset = 0): bigint {
  const cannot = (valueElem: string, layoutElem: string): ParseError =>
    new ParseError(
      `parsing time ${timeQuote(value)} as ${timeQuote(layout)}: cannot parse ${timeQuote(valueElem)} as ${timeQuote(layoutElem)}`,
    );
  const outOfRange = (what: string): ParseError => new ParseError(`parsing time ${timeQuote(value)}: ${what} out of range`);

  const chunks = chunksOf(layout);
  let v = value;
  let year = 0;
  let month = -1;
  let day = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nsec = 0;
  let offset: number | undefined;
  const readFraction = (): void => {
    const f = fraction(v);
    if (f) [nsec, v] = [f.nsec, f.rest];
  };
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c] as Chunk;
    if ('literal' in chunk) {
      for (const ch of chunk.literal) {
        if (v[0] !== ch) throw cannot(v, chunk.literal);
        v = v.slice(1);
      }
      continue;
    }
    const hold = v;
    let bad = false;
    switch (chunk.std) {
      case 'year':
        if (v.length < 4 || !/^\d{4}/.test(v)) bad = true;
        else {
          year = Number(v.slice(0, 4));
          v = v.slice(4);
        }
        break;
      case 'month':
      case 'day':
      case 'hour':
      case 'minute': {
        const got = getNum(v, chunk.std !== 'hour');
        if (!got) {
          bad = true;
          break;
        }
        v = got.rest;
        if (chunk.std === 'month') {
          month = got.n;
          if (month <= 0 || month > 12) throw outOfRange('month');
        } else if (chunk.std === 'day') {
          day = got.n; // checked against the month once all is read
        } else if (chunk.std === 'hour') {
          hour = got.n;
          if (hour >= 24) throw outOfRange('hour');
        } else {
          minute = got.n;
          if (minute >= 60) throw outOfRange('minute');
        }
        break;
      }
      case 'second': {
        const got = getNum(v, true);
        if (!got) {
          bad = true;
          break;
        }
        v = got.rest;
        second = got.n;
        if (second >= 60) throw outOfRange('second');
        // A fraction the layout does not mention is read anyway.
        const next = chunks[c + 1];
        if (!(next && 'std' in next && next.std === 'fraction')) readFraction();
        break;
      }
      case 'fraction': // optional
        readFraction();
        break;
      case 'zone': {
        if (v[0] === 'Z') {
          v = v.slice(1);
          offset = 0;
          break;
        }
        if (v.length < 6 || v[3] !== ':') {
          bad = true;
          break;
        }
        const sign = v[0];
        const hh = getNum(v.slice(1, 3), true);
        const mm = getNum(v.slice(4, 6), true);
        v = v.slice(6);
        if (!hh || !mm) {
          bad = true;
          break;
        }
        // Go allows 24 hours and 60 minutes here, and checks ranges before the sign.
        if (hh.n > 24) throw outOfRange('time zone offset hour');
        if (mm.n > 60) throw outOfRange('time zone offset minute');
        if (sign !== '+' && sign !== '-') {
          bad = true;
          break;
        }
        offset = (sign === '-' ? -1 : 1) * (hh.n * 60 + mm.n) * 60;
        break;
      }
    }
    if (bad) throw cannot(hold, chunk.text);
  }
  if (v.length > 0) throw new ParseError(`parsing time ${timeQuote(value)}: extra text: ${timeQuote(v)}`);
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  if (day < 1 || day > daysIn(month, year)) throw outOfRange('day');
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - (offset ?? defaultOffset);
  return BigInt(seconds) * NS_PER_SECOND + BigInt(nsec);
}

// ------------------------------------------------------------------ Docker's timestamps

/** Go's %q for the texts Docker quotes: printable ASCII kept, the rest escaped. */
function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\u0007/g, '\\a')
    .replace(/\\u000b/g, '\\v')
    .replace(/\\u00([0-9a-f]{2})/g, '\\x$1')
    .replace(/\x7f/g, '\\x7f');
}

/** strconv.ParseInt(s, 10, 64), or undefined. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(1n << 63n) && n < 1n << 63n ? n : undefined;
}

/** Docker's parseTimestamp: `seconds[.fraction]` as seconds and nanoseconds. */
function parseTimestamp(value: string): { seconds: bigint; nanos: bigint } | undefined {
  const dot = value.indexOf('.');
  const seconds = parseInt64(dot < 0 ? value : value.slice(0, dot));
  if (seconds === undefined) return undefined;
  if (dot < 0) return { seconds, nanos: 0n };
  const fraction = value.slice(dot + 1);
  const n = parseInt64(fraction);
  if (n === undefined) return undefined;
  return { seconds, nanos: BigInt(Math.trunc(Number(n) * 10 ** (9 - fraction.length))) };
}

const LOCAL_NANO = '2006-01-02T15:04:05.999999999';
const LOCAL = '2006-01-02T15:04:05';

/**
 * Docker's timetypes.GetTimestamp: a Go duration (before `now`), an RFC 3339-like time (in the
 * daemon's zone when it names none) or a Unix timestamp, as a `seconds[.nanoseconds]` string.
 * Throws with Docker's text; Docker answers these with status 500.
 */
export function getTimestamp(value: string, nowNanos: bigint, localOffsetSeconds: number): string {
  const duration = parseGoDuration(value);
  if (duration !== undefined && value !== '0') return floorDiv(nowNanos - duration, NS_PER_SECOND).toString();

  const inLocation = !/[zZ+]/.test(value) && value.split('-').length - 1 !== 3;
  let layout: string;
  if (value.includes('.')) {
    layout = inLocation ? LOCAL_NANO : RFC3339_NANO;
  } else if (value.includes('T')) {
    let colons = value.split(':').length - 1;
    if (!inLocation && !/[zZ]/.test(value) && colons > 0) colons--;
    const local = ['2006-01-02T15', '2006-01-02T15:04', LOCAL];
    const zoned = ['2006-01-02T15Z07:00', '2006-01-02T15:04Z07:00', RFC3339];
    layout = (inLocation ? local : zoned)[Math.min(colons, 2)] as string;
  } else {
    layout = inLocation ? '2006-01-02' : '2006-01-02Z07:00';
  }
  let nanos: bigint;
  try {
    nanos = goParseTime(layout, value, inLocation ? localOffsetSeconds : 0);
  } catch (err) {
    if (value.includes('-')) throw err;
    if (!parseTimestamp(value)) throw new Error(`failed to parse value as time or duration: ${goQuote(value)}`);
    return value;
  }
  const seconds = floorDiv(nanos, NS_PER_SECOND);
  return `${seconds}.${(nanos - seconds * NS_PER_SECOND).toString().padStart(9, '0')}`;
}

/** Docker's timetypes.ParseTimestamps, as nanoseconds since the epoch (time.Unix(s, ns)). */
export function parseTimestamps(value: string, defaultSeconds = 0n): bigint {
  if (value === '') return defaultSeconds * NS_PER_SECOND;
  const parsed = parseTimestamp(value);
  if (!parsed) throw new Error(`strconv.ParseInt: parsing ${goQuote(value)}: invalid syntax`);
  return parsed.seconds * NS_PER_SECOND + parsed.nanos;
}

/**
 * Docker 29's timestamp.ParseUnixTimestamp (daemon/internal/timestamp), as nanoseconds since the
 * epoch: `seconds[.fraction]`, the fraction digits only (at most 20, cut or padded to 9); undefined
 * for "" (Go's zero time). Throws with Docker's text.
 */
export function parseUnixTimestamp(value: string): bigint | undefined {
  if (value === '') return undefined;
  const fail = (why: string): never => {
    throw new Error(`invalid timestamp ${goQuote(value)}: ${why}`);
  };
  const dot = value.indexOf('.');
  const secondsText = dot < 0 ? value : value.slice(0, dot);
  const seconds = parseInt64(secondsText);
  if (seconds === undefined) {
    fail(`invalid seconds ${goQuote(secondsText)}: ${/^[+-]?\d+$/.test(secondsText) ? 'value out of range' : 'invalid syntax'}`);
  }
  const fraction = dot < 0 ? '' : value.slice(dot + 1);
  if (fraction.length > 20) fail(`invalid nanoseconds: length ${fraction.length} exceeds maximum 20`);
  const bad = /[^0-9]/.exec(fraction);
  if (bad) fail(`invalid nanoseconds: invalid character ${goQuoteRune(bad[0])} at position ${bad.index}`);
  return seconds! * NS_PER_SECOND + BigInt(fraction.slice(0, 9).padEnd(9, '0'));
}

/** Go's %q of a byte: '+', '\x00'. */
function goQuoteRune(c: string): string {
  const code = c.charCodeAt(0);
  if (c === "'" || c === '\\') return `'\\${c}'`;
  return code >= 0x20 && code < 0x7f ? `'${c}'` : `'\\x${code.toString(16).padStart(2, '0')}'`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const RFC3339_STRICT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Nanoseconds since the epoch of a time as Go's time.Time unmarshals it from JSON (strict RFC 3339);
 * undefined for anything else.
 */
export function rfc3339Nanos(value: unknown): bigint | undefined {
  const m = typeof value === 'string' ? RFC3339_STRICT.exec(value) : null;
  if (!m) return undefined;
  const zone = m[8] ?? 'Z';
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) >= 24 || Number(zone.slice(4, 6)) >= 60)) return undefined;
  try {
    return goParseTime(RFC3339_NANO, m[0]);
  } catch {
    return undefined;
  }
}

/** Whole seconds (rounded down) of nanoseconds since the epoch: Go's Time.Unix(). */
export function unixSecondsOf(nanos: bigint): number {
  return Number(floorDiv(nanos, NS_PER_SECOND));
}

// ------------------------------------------------------------------ writing

// Timestamps as Go writes time.Time with RFC3339Nano: fractional seconds without trailing zeros
// (none when zero), the offset kept as parsed, `Z` for UTC.
const RFC3339_LOOSE = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Reformats an RFC 3339 timestamp the way Go re-marshals it; undefined when it is not one. */
export function goRfc3339Nano(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339_LOOSE.exec(value);
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
