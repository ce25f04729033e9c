/**
 * The one walk of an image's blob graph, containerd's images.Walk with a seen set: depth first,
 * parents before children, in the order documents list them, and each digest handled once.
 *
 * An index may list one child many times, and nested indexes multiply that: F listings at each of
 * D levels are F^D paths (3.2 million for F = 20, D = 5) to a handful of blobs. Walking blobs, not
 * paths, keeps every walk as long as the graph is big. Where Docker counts a repeated descriptor
 * again (sizes, `Manifests`), Lading counts it once (README, "Differences from Docker 28").
 */
import { isIndexType, isManifestType } from './media-types.js';
import type { Descriptor } from './types.js';

/**
 * Indexes nest at most this deep below a walk's root (the root is depth 0): the one depth limit of
 * every walk. A deeper index is not entered, or fails the walk (`tooDeep`: the importer and the
 * pusher refuse such an image, so a stored graph meets the limit only through a pull).
 */
export const MAX_INDEX_DEPTH = 8;

/**
 * What to walk under `desc` (met at `depth`, listed by `parent`, undefined for a root); none, or
 * undefined, to stop there.
 */
export type ChildrenHandler = (desc: Descriptor, depth: number, parent: Descriptor | undefined) => Promise<readonly Descriptor[] | undefined>;

export interface WalkOptions {
  /** Digests already handled, shared across walks (several roots, several targets); filled as it goes. */
  seen?: Set<string>;
  /** A descriptor to pass by without marking it seen (GC's detached manifests below a target). */
  skip?: (desc: Descriptor, depth: number) => boolean;
  /** The error an index deeper than MAX_INDEX_DEPTH fails the walk with; absent, it is passed by. */
  tooDeep?: (desc: Descriptor) => Error;
}

/** Walks `roots` and what `handler` returns below them; returns the digests handled. */
export async function walkImageGraph(
  roots: Descriptor | readonly Descriptor[],
  handler: ChildrenHandler,
  options: WalkOptions = {},
): Promise<Set<string>> {
  const seen = options.seen ?? new Set<string>();
  const visit = async (desc: Descriptor, depth: number, parent: Descriptor | undefined): Promise<void> => {
    if (typeof desc?.digest !== 'string' || seen.has(desc.digest)) return;
    if (depth > MAX_INDEX_DEPTH && isIndexType(desc.mediaType)) {
      if (options.tooDeep) throw options.tooDeep(desc);
      return;
    }
    if (options.skip?.(desc, depth)) return;
    seen.add(desc.digest);
    const children = await handler(desc, depth, parent);
    for (const child of children ?? []) await visit(child, depth + 1, desc);
  };
  for (const root of Array.isArray(roots) ? (roots as readonly Descriptor[]) : [roots as Descriptor]) await visit(root, 0, undefined);
  return seen;
}

/** The documents a walk reads children from (the content store's reader, or a view over a registry's). */
export interface GraphDocuments {
  readIndex(desc: Descriptor): Promise<{ manifests?: Descriptor[] } | undefined>;
  readManifest(desc: Descriptor): Promise<{ config: Descriptor; layers: Descriptor[] } | undefined>;
}

/** containerd's images.Children: an index's manifests, a manifest's config and layers, else none. */
export async function childrenOf(reader: GraphDocuments, desc: Descriptor): Promise<Descriptor[]> {
  if (isIndexType(desc.mediaType)) return (await reader.readIndex(desc))?.manifests ?? [];
  if (!isManifestType(desc.mediaType)) return [];
  const manifest = await reader.readManifest(desc);
  return manifest ? [manifest.config, ...manifest.layers] : [];
}
