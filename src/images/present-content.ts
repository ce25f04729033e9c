import { NotFoundError } from '../errors.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import type { Descriptor, ImageConfig, Platform } from '../oci/types.js';
import { childrenOf, walkImageGraph } from '../oci/image-graph-walk.js';
import { ContentReader, isIndex, isManifest } from '../content/content-reader.js';
import { configPlatform, type PlatformMatcher } from '../oci/platform.js';
import { imageFamiliarName, platformNotFound } from './platform-not-found.js';

/**
 * containerd's walkPresentChildren: the blobs under `target` that are here, depth first, parents
 * before children, in manifest order, each once (Docker lists a blob again each time a document
 * lists it; an index listing its child F times at D levels would be F^D entries).
 */
export async function walkPresent(reader: ContentReader, target: Descriptor): Promise<Descriptor[]> {
  const found: Descriptor[] = [];
  await walkImageGraph(target, async (desc) => {
    if (!(await reader.has(desc.digest))) return undefined;
    found.push(desc);
    return childrenOf(reader, desc);
  });
  return found;
}

export interface PresentImage {
  manifest: Descriptor;
  platform: Platform;
  config: ImageConfig;
}

/**
 * Docker's GetImage without its document: the present platform manifest `matcher` likes best (its
 * platform from the index, else from its config) and that manifest's config. No manifest here:
 * `image with reference … was found but does not provide …`.
 */
export async function bestPresentImage(
  reader: ContentReader,
  record: ImageRecord,
  matcher: PlatformMatcher,
  wanted?: Platform,
): Promise<PresentImage> {
  const manifests: Descriptor[] = [];
  if (isManifest(record.target)) {
    manifests.push(record.target);
  } else if (isIndex(record.target)) {
    for (const desc of await walkPresent(reader, record.target)) if (isManifest(desc)) manifests.push(desc);
  }
  let best: { manifest: Descriptor; platform: Platform } | undefined;
  for (const manifest of manifests) {
    const platform = manifest.platform ?? configPlatform(await readConfigOf(reader, manifest));
    if (!matcher.match(platform)) continue;
    if (!best || matcher.less(platform, best.platform)) best = { manifest, platform };
  }
  if (!best) throw platformNotFound(imageFamiliarName(record), wanted);
  return { ...best, config: await readConfigOf(reader, best.manifest) };
}

async function readConfigOf(reader: ContentReader, manifestDesc: Descriptor): Promise<ImageConfig> {
  const manifest = await reader.readManifest(manifestDesc);
  if (!manifest) throw new NotFoundError(`content digest ${manifestDesc.digest}: not found`);
  const config = await reader.readConfig(manifest.config);
  if (!config) throw new NotFoundError(`content digest ${manifest.config.digest}: not found`);
  return config;
}

/** The labels of an image's config (`config.Labels`), or none. */
export function configLabels(config: ImageConfig | undefined): Record<string, string> {
  const labels = config?.config?.Labels;
  if (!labels || typeof labels !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return out;
}
