/**
 * `WWW-Authenticate` challenges (RFC 7235), parsed as containerd v2.1.4's remotes/docker/auth does:
 * schemes lowercased, parameters lowercased by name, quoted values unescaped; unknown schemes
 * dropped; bearer sorted before digest before basic.
 */
export type AuthScheme = 'basic' | 'digest' | 'bearer';

export interface Challenge {
  scheme: AuthScheme;
  parameters: Record<string, string>;
}

const SCHEME_RANK: Record<AuthScheme, number> = { bearer: 3, digest: 2, basic: 1 };

export function parseAuthHeader(values: readonly string[]): Challenge[] {
  const challenges: Challenge[] = [];
  for (const value of values) {
    const { scheme, parameters } = parseValueAndParams(value);
    if (scheme === 'basic' || scheme === 'digest' || scheme === 'bearer') challenges.push({ scheme, parameters });
  }
  // Array.prototype.sort is stable, as Go's sort.Stable.
  return challenges.sort((a, b) => SCHEME_RANK[b.scheme] - SCHEME_RANK[a.scheme]);
}

function isTokenChar(c: number): boolean {
  if (c <= 31 || c >= 127) return false;
  return !' \t"(),/:;<=>?@[]\\{}'.includes(String.fromCharCode(c));
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function parseValueAndParams(header: string): { scheme: string; parameters: Record<string, string> } {
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>;
  let [value, s] = expectToken(header);
  if (value === '') return { scheme: '', parameters };
  value = value.toLowerCase();
  for (;;) {
    let key: string;
    [key, s] = expectToken(skipSpace(s));
    if (key === '' || !s.startsWith('=')) break;
    let paramValue: string;
    [paramValue, s] = expectTokenOrQuoted(s.slice(1));
    parameters[key.toLowerCase()] = paramValue;
    s = skipSpace(s);
    if (!s.startsWith(',')) break;
    s = s.slice(1);
  }
  return { scheme: value, parameters };
}

function skipSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return s.slice(i);
}

function expectToken(s: string): [string, string] {
  let i = 0;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return [s.slice(0, i), s.slice(i)];
}

function expectTokenOrQuoted(s: string): [string, string] {
  if (!s.startsWith('"')) return expectToken(s);
  s = s.slice(1);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"') return [out, s.slice(i + 1)];
    if (ch === '\\') {
      i++;
      if (i >= s.length) break;
      out += s[i];
      continue;
    }
    out += ch;
  }
  // An unterminated quoted string yields nothing, as in Go.
  return ['', ''];
}
