// Baselines run in the same process tree, interleaved with what they are compared with, round by
// round, with the order rotated so that neither side always runs first (or always after a pause).
import { median } from './stats.js';

export interface RoundOptions {
  /**
   * Run one round first and drop it: servers that just started (or JIT-compiled a path for the
   * first time) are slower for a while, the more so the more code they run.
   */
  warmupRound?: boolean;
}

export async function interleaved<K extends string, T>(
  rounds: number,
  arms: Record<K, () => Promise<T>>,
  log: (msg: string) => void,
  describe: (arm: K, result: T) => string,
  options: RoundOptions = {},
): Promise<Record<K, T[]>> {
  const names = Object.keys(arms) as K[];
  const results = Object.fromEntries(names.map((n) => [n, [] as T[]])) as Record<K, T[]>;
  const first = options.warmupRound ? -1 : 0;
  for (let round = first; round < rounds; round++) {
    const parts: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[(round - first + i) % names.length] as K;
      const result = await arms[name]();
      if (round >= 0) results[name].push(result);
      parts.push(`${name} ${describe(name, result)}`);
    }
    log(`  ${round < 0 ? 'warm-up round (dropped)' : `round ${round + 1}/${rounds}`}: ${parts.join(', ')}`);
  }
  return results;
}

/**
 * The median over rounds of `f(a) / f(b)` within each round: a pair ran back to back, so it shares
 * whatever else the machine was doing at the time better than two medians taken separately do.
 */
export function pairedRatio<T>(a: readonly T[], b: readonly T[], f: (r: T) => number): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) ratios.push(f(a[i] as T) / f(b[i] as T));
  return median(ratios);
}
