/**
 * What the explorer's searches match against: one lower-case line per item, one string for all of
 * them (~20 MB at 100,000 images), and where each line starts (`starts[lines]` is past the end).
 * One indexOf over it costs a tenth of building and searching 100,000 strings.
 */
export interface SearchIndex {
  text: string;
  starts: Float64Array;
}

/** The index of `lines` (lower case, no newline in them). */
export function searchIndex(lines: readonly string[]): SearchIndex {
  const starts = new Float64Array(lines.length + 1);
  let at = 0;
  lines.forEach((line, i) => {
    starts[i] = at;
    at += line.length + 1;
  });
  starts[lines.length] = at;
  return { text: lines.join('\n'), starts };
}

/** The lines (in order) that hold every word; words hold no whitespace, so no match spans two lines. */
export function searchMatches(index: SearchIndex, words: readonly string[]): number[] {
  const [longest, ...rest] = [...words].sort((a, b) => b.length - a.length) as [string, ...string[]];
  const { text, starts } = index;
  const found: number[] = [];
  for (let at = text.indexOf(longest); at !== -1; ) {
    let lo = 0;
    let hi = starts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= at) lo = mid;
      else hi = mid - 1;
    }
    const end = starts[lo + 1] as number;
    if (rest.length === 0 || rest.every((w) => text.slice(starts[lo], end - 1).includes(w))) found.push(lo);
    at = text.indexOf(longest, end);
  }
  return found;
}
