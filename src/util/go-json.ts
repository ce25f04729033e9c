/**
 * JSON as Go's encoding/json.Marshal writes it, so that documents (and the digests of manifests
 * we synthesize) match Docker's byte for byte: compact, and `<`, `>`, `&`, U+2028 and U+2029
 * escaped inside strings. Key order is the caller's (Go writes struct fields in declaration order,
 * map keys sorted: use `sortedKeys` for maps).
 */
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** `JSON.stringify` already escapes what Go escapes, except these, which only occur inside strings. */
export function goMarshal(value: unknown): string {
  const json = JSON.stringify(value);
  return json.replace(/[<>&\u2028\u2029]/g, (ch) => GO_ESCAPES[ch] ?? ch);
}

/** A copy of a map-like object with its keys sorted by code unit, as Go sorts map keys. */
export function sortedKeys<T>(map: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(map).sort(compareCodeUnits)) out[key] = map[key] as T;
  return out;
}

/** Go sorts map keys bytewise; for the keys we meet (UTF-16 code units of BMP text) this agrees. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
