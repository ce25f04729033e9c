// Settings and the corpus shared by the property tests. A fixed seed keeps CI deterministic;
// LADING_FUZZ_SEED=random (or a number) and LADING_FUZZ_RUNS widen a local hunt.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/paths.js';

export function fuzzParams(defaultRuns: number): { seed?: number; numRuns: number; endOnFailure: boolean } {
  const seedEnv = process.env.LADING_FUZZ_SEED;
  const runs = Number(process.env.LADING_FUZZ_RUNS ?? defaultRuns);
  const seed = seedEnv === 'random' ? undefined : Number(seedEnv ?? 20261126);
  return { ...(seed === undefined ? {} : { seed }), numRuns: runs, endOnFailure: true };
}

export const CORPUS_DIR = path.join(repoRoot, 'test', 'fuzz-corpus');

/** The inputs kept for `target` (test/fuzz-corpus/<target>/*): each once found a bug. */
export function corpus(target: string): Array<{ name: string; data: Buffer }> {
  const dir = path.join(CORPUS_DIR, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && name !== 'README.md')
    .sort()
    .map((name) => ({ name, data: readFileSync(path.join(dir, name)) }));
}

/** Lines of a text corpus file: one input per line, JSON-encoded strings. */
export function corpusStrings(target: string): Array<{ name: string; value: string }> {
  return corpus(target).flatMap(({ name, data }) =>
    data
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line, i) => ({ name: `${name}:${i + 1}`, value: JSON.parse(line) as string })),
  );
}
