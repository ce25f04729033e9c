/**
 * JSON as Go's encoding/json.Marshal writes it, so that documents (and the digests of manifests
 * we synthesize) match Docker's byte for byte: compact; `<`, `>`, `&`, U+2028 and U+2029 escaped
 * inside strings; struct fields in declaration order, map keys sorted.
 *
 * Plain objects stand for Go structs and keep their key order (so their keys must not look like
 * integers, which JavaScript reorders); a `Map` stands for a Go map and is written with its keys
 * sorted. `undefined` members are left out, as Go's `omitempty` leaves out what is unset.
 */
export function goMarshal(value: unknown, options: { escapeHTML?: boolean } = {}): string {
  return write(value, options.escapeHTML === false ? goStringNoHTML : goString);
}

/** JSON written already (Go's json.RawMessage): goMarshal puts it in as it is. */
export class RawJson {
  constructor(readonly json: string) {}
}

/** Wraps a JSON object that is a map in Go (labels, annotations, ...) so it is written sorted. */
export function goMap<T>(record: Record<string, T>): Map<string, T> {
  return new Map(Object.entries(record));
}

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

// Printable ASCII that needs no escape (no `"`, `\`; for goString no `<`, `>`, `&`): most strings are.
const PLAIN = /^[ !#-[\]-~]*$/;
const PLAIN_NO_HTML = /^[ !#-%'-;=?-[\]-~]*$/;

export function goString(s: string): string {
  if (PLAIN_NO_HTML.test(s)) return `"${s}"`;
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (ch) => GO_ESCAPES[ch] ?? ch);
}

/** What a Go json.Encoder with SetEscapeHTML(false) writes: only the line separators escaped. */
function goStringNoHTML(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  return JSON.stringify(s).replace(/[\u2028\u2029]/g, (ch) => GO_ESCAPES[ch] ?? ch);
}

type Quote = (s: string) => string;

const SURROGATE = /[\ud800-\udfff]/;

// Built by string concatenation: V8 joins the pieces once, at the end, cheaper than an array of parts.
function write(value: unknown, quote: Quote): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`unsupported number ${value}`);
    return String(value); // what JSON.stringify writes for a finite number, and faster
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + write(value[i], quote);
    return out + ']';
  }
  if (value instanceof RawJson) return value.json;
  if (value instanceof Map) {
    const keys = [...value.keys()].map(String).sort(compareBytes);
    return writeMembers(keys.map((k) => [k, value.get(k)] as const), quote);
  }
  if (typeof value === 'object') return writeStruct(value as Record<string, unknown>, quote);
  throw new TypeError(`unsupported value of type ${typeof value}`);
}

function writeMembers(entries: Iterable<readonly [string, unknown]>, quote: Quote): string {
  let out = '{';
  for (const [key, member] of entries) {
    if (member === undefined) continue;
    out += (out.length > 1 ? ',' : '') + quote(key) + ':' + write(member, quote);
  }
  return out + '}';
}

/** A plain object's own members in order, without the arrays Object.entries would allocate. */
function writeStruct(struct: Record<string, unknown>, quote: Quote): string {
  let out = '{';
  for (const key in struct) {
    if (!Object.hasOwn(struct, key)) continue;
    const member = struct[key];
    if (member === undefined) continue;
    out += (out.length > 1 ? ',' : '') + quote(key) + ':' + write(member, quote);
  }
  return out + '}';
}

/** Go sorts map keys by their UTF-8 bytes; comparing code points gives the same order. */
function compareBytes(a: string, b: string): number {
  // Without surrogates, UTF-16 units are code points.
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = (ca[i]!.codePointAt(0) ?? 0) - (cb[i]!.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}
