/**
 * What a `docker load` needs of each platform, as Docker 28's LoadImage decides it
 * (daemon/containerd/image_exporter.go of moby v28.5.1): without `platform=`, every platform may
 * lack content (containerd.WithSkipMissing) but the host's, which Docker would then fail to unpack
 * and Lading refuses; with `platform=`, that platform must be whole, in Docker's words when not.
 */
import { NotFoundError } from '../errors.js';
import { anyOfMatcher, formatPlatformAll, hostPlatform, onlyMatcher } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { danglingName } from './image-names.js';
import { collectInspectFacts, type InspectSource, type LayerSizes } from './inspect.js';
import { imageFamiliarName } from './platform-not-found.js';

/** Whether a platform manifest of a loaded index must have all its content (importArchive's mustBeWhole). */
export function mustBeWhole(platformsRequested: boolean): (manifest: Descriptor) => boolean {
  if (platformsRequested) return () => false;
  // Docker unpacks what platforms.Default() matches: the host and the platforms it also runs.
  const host = onlyMatcher(hostPlatform());
  return (manifest) => !manifest.platform || host.match(manifest.platform);
}

export interface LoadedTarget {
  /** Normalized full name; absent for an image without one. */
  name?: string;
  target: Descriptor;
}

/** The platforms a load asked for; `docker29`: API 1.52+, Docker 29.7's list and words. */
export interface RequestedPlatforms {
  platforms: readonly Platform[];
  docker29: boolean;
}

/**
 * Refuses a load whose images do not all provide a requested platform with its content: Docker's
 * import error when a matching manifest itself is absent, else its verifyImagesProvidePlatform (an
 * image passes with any one of the platforms whole). Both are 404s. Docker 28.5 names the one
 * platform; 29.7 prints the list as Go prints a []string.
 */
export async function checkProvidesPlatform(
  reader: InspectSource,
  layers: LayerSizes,
  images: LoadedTarget[],
  requested: RequestedPlatforms,
): Promise<void> {
  const names = requested.platforms.map(formatPlatformAll);
  const wanted = requested.docker29 ? `[${names.join(' ')}]` : (names[0] ?? '');
  if (images.length === 0) {
    throw new NotFoundError(
      requested.docker29 ? `no images providing the requested platform(s) found: ${wanted}` : `no images providing the requested platform ${wanted} found`,
    );
  }
  const matcher = anyOfMatcher(requested.platforms);
  const incomplete: string[] = [];
  for (const image of images) {
    const facts = await collectInspectFacts(reader, layers, image.target, matcher);
    for (const manifest of facts.manifests) {
      const p = manifest.imageData?.platform;
      if (manifest.kind !== 'image' || !p || !matcher.match(p) || (await reader.has(manifest.id))) continue;
      throw new NotFoundError(
        `requested platform${requested.docker29 ? '(s)' : ''} (${wanted}) found, but some content is missing: content digest ${manifest.id}: not found`,
      );
    }
    if (!facts.best) incomplete.push(imageFamiliarName({ name: image.name ?? danglingName(image.target.digest), target: image.target }));
  }
  if (incomplete.length === 1) {
    throw new NotFoundError(`image ${incomplete[0]} was loaded, but doesn't provide the requested platform (${wanted})`);
  }
  if (incomplete.length > 1) {
    throw new NotFoundError(`images [${incomplete.join(', ')}] were loaded, but don't provide the requested platform (${wanted})`);
  }
}
