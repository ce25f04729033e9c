/**
 * Docker's contenttype.MatchAcceptStrict over gddo's header.ParseAccept: the offer named exactly in
 * `Accept` with the highest q (ties: the earlier offer); wildcards never match, q=0 refuses. As
 * ParseAccept, an entry with a parameter other than a leading `q=`, or a bad q, ends the parsing.
 * "" when nothing matches.
 */
export function matchAcceptStrict(accept: string | undefined, offers: readonly string[]): string {
  if (!accept) return '';
  const specs = parseAccept(accept);
  let best = '';
  let bestQ = -1;
  for (const offer of offers) {
    for (const spec of specs) {
      if (spec.q === 0 || spec.value !== offer) continue;
      if (spec.q > bestQ) {
        bestQ = spec.q;
        best = offer;
      }
    }
  }
  return best;
}

// RFC 2616 token characters, and `/` for a media range.
const TOKEN_SLASH = /^[!#$%&'*+\-.^_`|~0-9A-Za-z/]*/;
const SPACE = /^[ \t\r\n]*/;

function parseAccept(header: string): Array<{ value: string; q: number }> {
  const specs: Array<{ value: string; q: number }> = [];
  let s = header;
  const skipSpace = (): void => {
    s = s.slice(SPACE.exec(s)![0].length);
  };
  for (;;) {
    const value = TOKEN_SLASH.exec(s)![0];
    if (value === '') return specs;
    s = s.slice(value.length);
    let q = 1;
    skipSpace();
    if (s.startsWith(';')) {
      s = s.slice(1);
      skipSpace();
      if (!s.startsWith('q=')) return specs;
      const quality = /^([01])(?:\.([0-9]*))?/.exec(s.slice(2));
      if (!quality) return specs;
      const fraction = quality[2] ?? '';
      q = Number(quality[1]) + (fraction ? Number(fraction) / 10 ** fraction.length : 0);
      s = s.slice(2 + quality[0].length);
    }
    specs.push({ value, q });
    skipSpace();
    if (!s.startsWith(',')) return specs;
    s = s.slice(1);
    skipSpace();
  }
}
