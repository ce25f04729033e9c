/**
 * The list's row of a target, as the metadata keeps it beside the target's facts (metadata/target-pages.ts):
 * the facts a summary shows and the filters look at, without the blob map and chain IDs, which only
 * shared sizes and disk usage read. Its `created` is the list's order (newest first).
 */
import type { TargetRow } from '../metadata/metadata-store.js';
import type { TargetFacts } from './image-list.js';

type RowFacts = Pick<TargetFacts, 'manifests' | 'size' | 'best' | 'configLabels'> & { created?: string };

export function rowOf(facts: TargetFacts): TargetRow {
  const row: RowFacts = { manifests: facts.manifests, size: facts.size, configLabels: facts.configLabels };
  if (facts.best) row.best = facts.best;
  if (facts.created !== undefined) row.created = facts.created.toString();
  return { created: facts.best?.created ?? 0, json: JSON.stringify(row) };
}

/** The facts a row holds, as TargetFacts of a complete target without its blobs and chains (not to be used for shared sizes). */
export function parseRow(json: string): TargetFacts {
  const { created, ...rest } = JSON.parse(json) as RowFacts;
  return { complete: true, chains: [], blobs: new Map(), ...rest, ...(created !== undefined ? { created: BigInt(created) } : {}) };
}
