import { MAX_INDEX_DEPTH, walkImageGraph } from '../oci/image-graph-walk.js';
import { isLayerType } from '../oci/media-types.js';
import { configPlatform, type PlatformMatcher } from '../oci/platform.js';
import type { Descriptor, ImageConfig, Platform } from '../oci/types.js';
import type { ConfigFields, ManifestSummary } from './explorer-api-types.js';
import { goRfc3339Nano } from '../util/go-time.js';
import { isIndex, isManifest, type ContentReader } from '../content/content-reader.js';

/** A platform manifest of an image, with what the walk learnt of it. */
interface PlatformManifest {
  descriptor: Descriptor;
  summary: ManifestSummary;
  config?: ImageConfig;
}

/** The facts of an image the inspect document is made from, before any API-version shaping. */
export interface InspectFacts {
  id: string;
  descriptor: Descriptor;
  size: number;
  manifests: ManifestSummary[];
  /** The platform manifest the config-derived fields come from; absent when none is available. */
  best?: { descriptor: Descriptor; config: ImageConfig };
}

/**
 * What the inspect walk reads: parsed documents, and which blobs count as here. The content store's
 * reader for a local image; a view over what a registry served for a remote one (remote-inspect.ts).
 */
export type InspectSource = Pick<ContentReader, 'readIndex' | 'readManifest' | 'readConfig' | 'has'>;

export interface LayerSizes {
  unpackedSize(layerDigest: string): Promise<number | undefined>;
}

const ATTESTATION_TYPE = 'vnd.docker.reference.type';
const ATTESTATION_DIGEST = 'vnd.docker.reference.digest';

/**
 * Walks an image's target as Docker 28's containerd image service does for inspect: every
 * reachable manifest summarized, the best available platform chosen by `matcher`.
 */
export async function collectInspectFacts(
  reader: InspectSource,
  layers: LayerSizes,
  target: Descriptor,
  matcher: PlatformMatcher,
): Promise<InspectFacts> {
  const platformManifests: PlatformManifest[] = [];
  await walkManifests(reader, target, async (descriptor) => {
    platformManifests.push(await summarize(reader, layers, descriptor));
  });

  let best: PlatformManifest | undefined;
  let bestPlatform: Platform | undefined;
  for (const pm of platformManifests) {
    const platform = pm.summary.imageData?.platform;
    if (!pm.summary.available || pm.summary.kind !== 'image' || !platform || !pm.config) continue;
    if (!matcher.match(platform)) continue;
    if (!best || !bestPlatform || matcher.less(platform, bestPlatform)) {
      best = pm;
      bestPlatform = platform;
    }
  }

  return {
    id: target.digest,
    descriptor: target,
    size: await imageSize(reader, target, matcher),
    manifests: platformManifests.map((pm) => pm.summary),
    ...(best?.config ? { best: { descriptor: best.descriptor, config: best.config } } : {}),
  };
}

/**
 * Depth first, in index order, every manifest below `desc` (itself when it is one), each digest once:
 * Docker summarizes a manifest again each time an index lists it.
 */
async function walkManifests(reader: InspectSource, desc: Descriptor, visit: (manifest: Descriptor) => Promise<void>): Promise<void> {
  await walkImageGraph(desc, async (d) => {
    if (isManifest(d)) await visit(d);
    return isIndex(d) ? (await reader.readIndex(d))?.manifests : undefined;
  });
}

async function summarize(reader: InspectSource, layers: LayerSizes, desc: Descriptor): Promise<PlatformManifest> {
  const summary: ManifestSummary = {
    id: desc.digest,
    descriptor: desc,
    available: false,
    contentSize: 0,
    totalSize: 0,
    kind: 'unknown',
  };
  const manifest = await reader.readManifest(desc);
  let present: boolean[] = [];
  if (manifest) {
    const children = [manifest.config, ...manifest.layers];
    present = await Promise.all(children.map((c) => reader.has(c.digest)));
    summary.available = present.every(Boolean);
    summary.contentSize = desc.size + children.reduce((sum, c, i) => sum + (present[i] ? c.size : 0), 0);
    summary.totalSize = summary.contentSize;
  }

  if (isAttestation(desc)) {
    const forDigest = desc.annotations?.[ATTESTATION_DIGEST];
    if (forDigest && /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(forDigest)) {
      summary.kind = 'attestation';
      summary.attestationFor = forDigest;
    }
    return { descriptor: desc, summary };
  }
  if (desc.platform?.os === 'unknown' && desc.platform.architecture === 'unknown') return { descriptor: desc, summary };
  if (manifest && manifest.layers.length > 0 && !manifest.layers.some((l) => isLayerType(l.mediaType))) {
    return { descriptor: desc, summary };
  }

  summary.kind = 'image';
  const imageData = { platform: desc.platform ?? ({} as Platform), unpackedSize: 0 };
  summary.imageData = imageData;
  if (!summary.available || !manifest) return { descriptor: desc, summary };

  const config = await reader.readConfig(manifest.config);
  if (!config || typeof config !== 'object') return { descriptor: desc, summary };
  if (!desc.platform) imageData.platform = configPlatform(config);
  for (const l of manifest.layers) imageData.unpackedSize += (await layers.unpackedSize(l.digest)) ?? 0;
  summary.totalSize += imageData.unpackedSize;
  return { descriptor: desc, summary, config };
}

function isAttestation(desc: Descriptor): boolean {
  return desc.annotations?.[ATTESTATION_TYPE] === 'attestation-manifest';
}

/**
 * Docker 28's `Size`: the target, then (for an index) its best platform child by the matcher,
 * recursively, then that manifest's config and layers, counting each descriptor's declared size
 * whether or not the blob is present.
 */
async function imageSize(reader: InspectSource, desc: Descriptor, matcher: PlatformMatcher, depth = 0): Promise<number> {
  let size = desc.size;
  if (depth > MAX_INDEX_DEPTH) return size;
  if (isIndex(desc)) {
    const index = await reader.readIndex(desc);
    const children = [...(index?.manifests ?? [])];
    const sorted = children
      .map((child, i) => ({ child, i }))
      .sort((a, b) => comparePlatformDescriptors(a.child, b.child, matcher) || a.i - b.i);
    const first = sorted[0];
    if (first) size += await imageSize(reader, first.child, matcher, depth + 1);
  } else if (isManifest(desc)) {
    const manifest = await reader.readManifest(desc);
    if (manifest) size += [manifest.config, ...manifest.layers].reduce((sum, c) => sum + (c.size ?? 0), 0);
  }
  return size;
}

/** containerd's LimitManifests order: descriptors without a platform last, then by preference. */
function comparePlatformDescriptors(a: Descriptor, b: Descriptor, matcher: PlatformMatcher): number {
  if (!a.platform) return b.platform ? 1 : 0;
  if (!b.platform) return -1;
  if (matcher.less(a.platform, b.platform)) return -1;
  if (matcher.less(b.platform, a.platform)) return 1;
  return 0;
}

export function configFields(config: ImageConfig | undefined): ConfigFields {
  if (!config) return { author: '', architecture: '', variant: '', os: '', osVersion: '', comment: '', rootFS: { type: '', layers: [] } };
  const history = Array.isArray(config.history) ? config.history : [];
  const created = goRfc3339Nano(config.created);
  return {
    author: str(config.author),
    architecture: str(config.architecture),
    variant: str(config.variant),
    os: str(config.os),
    osVersion: str(config['os.version']),
    comment: str(history[history.length - 1]?.comment),
    ...(created ? { created } : {}),
    rootFS: {
      type: str(config.rootfs?.type),
      layers: Array.isArray(config.rootfs?.diff_ids) ? config.rootfs.diff_ids.map(String) : [],
    },
    ...(config.config && typeof config.config === 'object' ? { config: config.config } : {}),
  };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
