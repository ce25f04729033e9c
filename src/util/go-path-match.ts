/**
 * Go's path.Match: shell globs over slash-separated names (`*` and `?` never cross a `/`,
 * `[...]` classes with ranges and `^`, `\` escapes). Docker matches `reference` filters with it.
 * Works on code points, as Go works on runes where it matters (`?`, classes); names are ASCII.
 */

export class BadPatternError extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

type Chars = readonly string[];

/** True when `name` matches `pattern`; throws BadPatternError for a malformed pattern, as Go does. */
export function goPathMatch(pattern: string, name: string): boolean {
  let p: Chars = [...pattern];
  let n: Chars = [...name];
  pattern: while (p.length > 0) {
    const scanned = scanChunk(p);
    const { star, chunk } = scanned;
    p = scanned.rest;
    if (star && chunk.length === 0) return !n.includes('/');
    const here = matchChunk(chunk, n);
    if (here && (here.length === 0 || p.length > 0)) {
      n = here;
      continue;
    }
    if (star) {
      for (let i = 0; i < n.length && n[i] !== '/'; i++) {
        const rest = matchChunk(chunk, n.slice(i + 1));
        if (rest) {
          if (p.length === 0 && rest.length > 0) continue;
          n = rest;
          continue pattern;
        }
      }
    }
    // Before answering false, the rest of the pattern must still be well formed.
    while (p.length > 0) {
      const next = scanChunk(p);
      p = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return n.length === 0;
}

function scanChunk(pattern: Chars): { star: boolean; chunk: Chars; rest: Chars } {
  let start = 0;
  while (start < pattern.length && pattern[start] === '*') start++;
  let inRange = false;
  let i = start;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
    }
  }
  return { star: start > 0, chunk: pattern.slice(start, i), rest: pattern.slice(i) };
}

/** The rest of `s` after `chunk` matched its beginning, or undefined; the whole chunk is checked for syntax. */
function matchChunk(chunk: Chars, s: Chars): Chars | undefined {
  let failed = false;
  let c = 0;
  let at = 0;
  while (c < chunk.length) {
    if (!failed && at >= s.length) failed = true;
    const ch = chunk[c];
    if (ch === '[') {
      const r = failed ? '' : (s[at++] ?? '');
      c++;
      let negated = false;
      if (chunk[c] === '^') {
        negated = true;
        c++;
      }
      let match = false;
      let ranges = 0;
      for (;;) {
        if (chunk[c] === ']' && ranges > 0) {
          c++;
          break;
        }
        const lo = escapedChar(chunk, c);
        c = lo.next;
        let hi = lo.char;
        if (chunk[c] === '-') {
          const h = escapedChar(chunk, c + 1);
          c = h.next;
          hi = h.char;
        }
        const code = r.codePointAt(0) ?? -1;
        if ((lo.char.codePointAt(0) ?? 0) <= code && code <= (hi.codePointAt(0) ?? 0)) match = true;
        ranges++;
      }
      if (match === negated) failed = true;
    } else if (ch === '?') {
      if (!failed) {
        if (s[at] === '/') failed = true;
        at++;
      }
      c++;
    } else {
      if (ch === '\\') {
        c++;
        if (c >= chunk.length) throw new BadPatternError();
      }
      if (!failed) {
        if (chunk[c] !== s[at]) failed = true;
        at++;
      }
      c++;
    }
  }
  return failed ? undefined : s.slice(at);
}

/** One character of a class range, `\` escapes honoured; Go's getEsc. */
function escapedChar(chunk: Chars, at: number): { char: string; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === '-' || chunk[i] === ']') throw new BadPatternError();
  if (chunk[i] === '\\') {
    i++;
    if (i >= chunk.length) throw new BadPatternError();
  }
  const char = chunk[i] ?? '';
  i++;
  if (i >= chunk.length) throw new BadPatternError();
  return { char, next: i };
}
