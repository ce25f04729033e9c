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
  const parts: string[] = [];
  write(value, parts, options.escapeHTML === false ? goStringNoHTML : goString);
  return parts.join('');
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

export function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (ch) => GO_ESCAPES[ch] ?? ch);
}

/** What a Go json.Encoder with SetEscapeHTML(false) writes: only the line separators escaped. */
function goStringNoHTML(s: string): string {
  return JSON.stringify(s).replace(/[\u2028\u2029]/g, (ch) => GO_ESCAPES[ch] ?? ch);
}

type Quote = (s: string) => string;

function write(value: unknown, out: string[], quote: Quote): void {
  if (value === null || value === undefined) {
    out.push('null');
  } else if (typeof value === 'string') {
    out.push(quote(value));
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`unsupported number ${value}`);
    out.push(JSON.stringify(value));
  } else if (typeof value === 'boolean') {
    out.push(value ? 'true' : 'false');
  } else if (typeof value === 'bigint') {
    out.push(value.toString());
  } else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      write(item, out, quote);
    });
    out.push(']');
  } else if (value instanceof Map) {
    const keys = [...value.keys()].map(String).sort(compareBytes);
    writeMembers(keys.map((k) => [k, value.get(k)] as const), out, quote);
  } else if (typeof value === 'object') {
    writeMembers(Object.entries(value as Record<string, unknown>), out, quote);
  } else {
    throw new TypeError(`unsupported value of type ${typeof value}`);
  }
}

function writeMembers(entries: Iterable<readonly [string, unknown]>, out: string[], quote: Quote): void {
  out.push('{');
  let first = true;
  for (const [key, member] of entries) {
    if (member === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(quote(key), ':');
    write(member, out, quote);
  }
  out.push('}');
}

/** Go sorts map keys by their UTF-8 bytes; comparing code points gives the same order. */
function compareBytes(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = (ca[i]!.codePointAt(0) ?? 0) - (cb[i]!.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}
