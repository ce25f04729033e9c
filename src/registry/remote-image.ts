/**
 * What a pull would take of an image, read without taking it: the reference resolved, the index
 * (or indexes) on the way down, the one platform manifest a pull picks (puller.ts's choice) and
 * its config. Layers are never requested. Every document is checked against its descriptor's
 * size and digest as a pull checks it, and nothing is written anywhere: the bytes live in memory
 * for the caller, which builds an inspect document from them (src/images/remote-inspect.ts).
 */
import { LadingError, NotFoundError } from '../errors.js';
import { MAX_INDEX_DEPTH } from '../oci/image-graph-walk.js';
import { MediaType, isIndexType, isLayerType, isManifestType } from '../oci/media-types.js';
import { hostPreferenceMatcher, strictMatcher } from '../oci/platform.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import { referenceString, type Reference } from '../reference/reference.js';
import type { AuthConfig } from './auth-config.js';
import { documentMediaType, pickPlatformChild, resolveRoot, unsupportedRoot } from './manifest-choice.js';
import { fetchConfigBlob, fetchManifest } from './manifest-fetch.js';
import type { RegistryService } from './registry-service.js';

export interface RemoteImageOptions {
  /** The platform to pick; without it, the host's preference, as a pull without `--platform`. */
  platform?: Platform;
  auth?: AuthConfig;
  signal?: AbortSignal;
  /** Told of every request made to a registry. */
  onExchange?: (method: string, url: URL, status: number) => void;
}

export interface RemoteImage {
  /** What the reference resolved to: its digest is the image's ID. */
  target: Descriptor;
  /** Every document read, parsed, by digest: the indexes on the way, the manifest, its config. */
  documents: Map<string, unknown>;
  /** The platform manifest a pull would fetch (the target itself for a single manifest). */
  manifest: Descriptor;
  /** Its layers, as the manifest lists them; none of them was requested. */
  layers: Descriptor[];
}

/** Resolves `ref` at its registry and reads its index, platform manifest and config. */
export async function fetchRemoteImage(registry: RegistryService, ref: Reference, options: RemoteImageOptions = {}): Promise<RemoteImage> {
  const name = referenceString(ref);
  const repo = await registry.repository(ref.domain, ref.path, {
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onExchange ? { onExchange: options.onExchange } : {}),
  });
  let root = await resolveRoot(repo, ref);

  const fetched = new Map<string, Buffer>();
  const fetchOnce = async (desc: Descriptor): Promise<Buffer> => {
    const have = fetched.get(desc.digest);
    if (have) return have;
    const data = await fetchManifest(repo, desc);
    fetched.set(desc.digest, data);
    return data;
  };
  if (!isIndexType(root.mediaType) && !isManifestType(root.mediaType)) {
    const mediaType = documentMediaType(await fetchOnce(root));
    if (!mediaType) throw unsupportedRoot(root, name);
    root = { ...root, mediaType };
  }

  const matcher = options.platform ? strictMatcher(options.platform) : hostPreferenceMatcher();
  const documents = new Map<string, unknown>();
  let desc = root;
  for (let depth = 0; ; depth++) {
    if (depth > MAX_INDEX_DEPTH) throw new LadingError('invalid-argument', `image ${desc.digest} nests indexes too deeply`);
    const doc = parseObject(await fetchOnce(desc), desc);
    documents.set(desc.digest, doc);
    if (isIndexType(desc.mediaType)) {
      const index = doc as unknown as ImageIndex;
      if (!Array.isArray(index.manifests)) throw new LadingError('invalid-argument', `index ${desc.digest}: manifests is not a list`);
      const chosen = pickPlatformChild(index.manifests, matcher);
      if (!chosen) throw new NotFoundError('no match for platform in manifest: not found');
      desc = chosen;
      continue;
    }
    if (!isManifestType(desc.mediaType)) throw unsupportedRoot(desc, name);
    const manifest = doc as unknown as ImageManifest;
    if (!manifest.config || !Array.isArray(manifest.layers)) {
      throw new LadingError('invalid-argument', `manifest ${desc.digest}: not an image manifest`);
    }
    const config = parseObject(await fetchConfigBlob(repo, manifest.config), manifest.config) as unknown as ImageConfig;
    documents.set(manifest.config.digest, config);
    checkLayerCount(manifest, config);
    return { target: root, documents, manifest: desc, layers: manifest.layers };
  }
}

/** What the puller refuses once the config is in (before any layer), refused here too. */
function checkLayerCount(manifest: ImageManifest, config: ImageConfig): void {
  const isImage =
    (manifest.config.mediaType === MediaType.dockerConfig || manifest.config.mediaType === MediaType.ociConfig) &&
    manifest.layers.every((l) => isLayerType(l.mediaType));
  if (!isImage) return;
  const diffIds = Array.isArray(config.rootfs?.diff_ids) ? config.rootfs.diff_ids : [];
  if (diffIds.length !== manifest.layers.length) {
    throw new LadingError('invalid-argument', `number of layers and diffIDs don't match: ${manifest.layers.length} != ${diffIds.length}`);
  }
}

function parseObject(data: Buffer, desc: Descriptor): Record<string, unknown> {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new LadingError('invalid-argument', `content ${desc.digest} is not valid JSON: ${(err as Error).message}`);
  }
}
