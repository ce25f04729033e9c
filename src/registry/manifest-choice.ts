/**
 * Which manifests a pull takes, shared by the puller and remote inspect: the root a reference
 * resolves to, the media type of a root whose Content-Type says too little, and the one child of
 * an index a platform matcher picks (containerd v2.1.4's FilterPlatforms then LimitManifests(1)).
 */
import { LadingError } from '../errors.js';
import { MediaType, isIndexType, isManifestType } from '../oci/media-types.js';
import type { PlatformMatcher } from '../oci/platform.js';
import type { Descriptor } from '../oci/types.js';
import { referenceString, type Reference } from '../reference/reference.js';
import { resolveManifest, schema1Error, SCHEMA1_TYPES, type Repository } from './manifest-fetch.js';
import { wrapRegistryError } from './registry-errors.js';

/** The descriptor `ref` (its digest, else its tag, else `latest`) resolves to; schema 1 refused. */
export async function resolveRoot(repo: Repository, ref: Reference): Promise<Descriptor> {
  const name = referenceString(ref);
  let root: Descriptor;
  try {
    root = await resolveManifest(repo, name, ref.digest ?? ref.tag ?? 'latest');
  } catch (err) {
    throw wrapRegistryError(`failed to resolve reference ${JSON.stringify(name)}`, err);
  }
  if (SCHEMA1_TYPES.has(root.mediaType)) throw schema1Error('v2.1');
  return root;
}

/**
 * The media type of a root manifest from its own bytes: the document's `mediaType` when it is a
 * manifest or index type, else its shape (`manifests` → OCI index, `config` and `layers` → OCI
 * manifest); undefined when neither says.
 */
export function documentMediaType(data: Buffer): string | undefined {
  let doc: { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown } | undefined;
  try {
    doc = JSON.parse(data.toString('utf8')) as typeof doc;
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object') return undefined;
  if (typeof doc.mediaType === 'string' && (isIndexType(doc.mediaType) || isManifestType(doc.mediaType))) return doc.mediaType;
  if (doc.mediaType === undefined && Array.isArray(doc.manifests)) return MediaType.ociIndex;
  if (doc.mediaType === undefined && doc.config && Array.isArray(doc.layers)) return MediaType.ociManifest;
  return undefined;
}

/** The refusal of a root that is neither a manifest nor an index. */
export function unsupportedRoot(root: Descriptor, refName: string): LadingError {
  return new LadingError(
    'not-implemented',
    `unsupported media type ${JSON.stringify(root.mediaType)} of ${refName} (${root.digest}): not an image manifest or index`,
  );
}

/**
 * The child of an index a pull fetches: children without a platform are kept (and sorted last),
 * the others must match; the most preferred wins, index order breaking ties. Undefined when none.
 */
export function pickPlatformChild(children: readonly Descriptor[], matcher: PlatformMatcher): Descriptor | undefined {
  const candidates = children.filter((c) => !c.platform || matcher.match(c.platform));
  const sorted = candidates
    .map((item, i) => ({ item, i }))
    .sort((a, b) => (less(a.item, b.item, matcher) ? -1 : less(b.item, a.item, matcher) ? 1 : a.i - b.i));
  return sorted[0]?.item;
}

function less(a: Descriptor, b: Descriptor, matcher: PlatformMatcher): boolean {
  if (!a.platform) return false;
  if (!b.platform) return true;
  return matcher.less(a.platform, b.platform);
}
