import type { BlobSource } from '../metadata/metadata-store.js';
import type { ImageIdentity } from './explorer-api-types.js';
import { parseNormalizedNamed, repositoryName } from '../reference/reference.js';

/**
 * Docker 29.7's imageIdentityFromLabels over the target blob's distribution-source labels, which
 * Lading keeps as blob sources: one entry per repository, its name normalized
 * (`docker.io/library/alpine`), each once. Docker reads a map (registries in no set order, each
 * label's repositories sorted by containerd); Lading sorts by name, so the order is stable.
 * Undefined when there is none, as Docker omits an empty Identity.
 */
export function imageIdentity(sources: readonly BlobSource[]): ImageIdentity | undefined {
  const names = new Set<string>();
  for (const source of sources) {
    try {
      names.add(repositoryName(parseNormalizedNamed(`${source.registry}/${source.repository}`)));
    } catch {
      // Docker logs a source that does not parse as a name and goes on.
    }
  }
  if (names.size === 0) return undefined;
  return { pull: [...names].sort().map((repository) => ({ repository })) };
}
