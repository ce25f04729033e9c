import { configPlatform, normalizePlatform } from '../oci/platform.js';
import type { BlobInfo } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { goMarshal } from '../util/go-json.js';
import type { LayerCompression } from '../layers/layer-facts.js';
import { cleanPath } from './entry-path.js';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, normalizeRepoTag, ociRefName } from './image-name.js';
import type { ImportContext, ImportedImage } from './import-context.js';
import { verifyTarget } from './verify-image.js';

/** One entry of a docker-archive's manifest.json. */
export interface DockerArchiveImage {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/**
 * manifest.json's entries; undefined for `null`, which containerd reads as no manifest at all.
 * Keys are matched as Go's encoding/json matches them: exactly, else case-insensitively.
 */
export function parseDockerManifest(json: unknown): DockerArchiveImage[] | undefined {
  if (json === null || json === undefined) return undefined;
  if (!Array.isArray(json)) throw new InvalidArgumentError('invalid manifest.json: not a JSON list');
  return json.map((value, i) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(`invalid manifest.json: entry ${i} is not an object`);
    }
    const entry = value as Record<string, unknown>;
    const config = goField(entry, 'Config') ?? '';
    const repoTags = goField(entry, 'RepoTags') ?? [];
    const layers = goField(entry, 'Layers') ?? [];
    if (typeof config !== 'string') throw new InvalidArgumentError(`invalid manifest.json: entry ${i}: Config is not a string`);
    if (!isStringList(repoTags)) throw new InvalidArgumentError(`invalid manifest.json: entry ${i}: RepoTags is not a list of strings`);
    if (!isStringList(layers)) throw new InvalidArgumentError(`invalid manifest.json: entry ${i}: Layers is not a list of strings`);
    return { Config: config, RepoTags: repoTags, Layers: layers };
  });
}

function goField(entry: Record<string, unknown>, key: string): unknown {
  if (key in entry) return entry[key];
  const lower = key.toLowerCase();
  const match = Object.keys(entry).find((k) => k.toLowerCase() === lower);
  return match === undefined ? undefined : entry[match];
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * The images of a docker-archive (the legacy `<id>/layer.tar` layout or the `blobs/sha256` one):
 * for each manifest.json entry, the Docker schema 2 manifest containerd synthesizes, byte for byte,
 * stored; then one image per RepoTag (or one untagged image) pointing at it.
 */
export async function importDockerArchive(ctx: ImportContext, entries: DockerArchiveImage[]): Promise<ImportedImage[]> {
  const images: ImportedImage[] = [];
  for (const entry of entries) {
    const config = await resolveFile(ctx, entry.Config, 'image config');
    const configJson = await ctx.readJson(config.digest, `image config ${entry.Config}`);
    if (typeof configJson !== 'object' || configJson === null || Array.isArray(configJson)) {
      throw new InvalidArgumentError(`image config ${entry.Config} is not a JSON object`);
    }

    const layers: Descriptor[] = [];
    for (const path of entry.Layers) {
      const blob = await resolveFile(ctx, path, 'layer');
      const facts = await ctx.layerFacts(blob, `layer ${JSON.stringify(path)}:`);
      layers.push({ mediaType: layerMediaType(facts.compression), digest: blob.digest, size: blob.size });
    }

    // Go's json.Marshal of containerd's struct: this field order, compact, HTML-escaped.
    const manifest = goMarshal({
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: config.digest, size: config.size },
      layers,
    });
    const written = await ctx.writeBlob(Buffer.from(manifest, 'utf8'));
    const manifestDesc: Descriptor = { mediaType: MediaType.dockerManifest, digest: written.digest, size: written.size };
    await verifyTarget(ctx, manifestDesc, `image ${entry.RepoTags[0] ?? entry.Config}`);

    const platform = normalizePlatform(configPlatform(configJson as Record<string, unknown>));
    if (entry.RepoTags.length === 0) {
      images.push({ target: { ...manifestDesc, platform } });
      continue;
    }
    for (const tag of entry.RepoTags) {
      const { name, ref } = normalizeRepoTag(tag);
      images.push({
        name,
        target: {
          ...manifestDesc,
          annotations: { [ANNOTATION_IMAGE_NAME]: name, [ANNOTATION_REF_NAME]: ociRefName(ref) },
          platform,
        },
      });
    }
  }
  return images;
}

function layerMediaType(compression: LayerCompression): string {
  if (compression === 'none') return MediaType.dockerLayer;
  if (compression === 'gzip') return MediaType.dockerLayerGzip;
  // containerd labels every compressed layer as gzip; a zstd layer is typed as what it is.
  return MediaType.ociLayerZstd;
}

const MAX_LINK_HOPS = 40;
const STORE_BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

/**
 * The blob at an archive path, following symlinks and hard links between archive entries (never
 * out of the archive). A `blobs/sha256/<hex>` path the archive lacks may name a blob the store has.
 */
async function resolveFile(ctx: ImportContext, name: string, what: string): Promise<BlobInfo> {
  const { files, links } = ctx.contents;
  let path = cleanPath(name);
  for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
    const file = files.get(path);
    if (file) return file;
    const link = links.get(path);
    if (!link) break;
    if (link.target === undefined) {
      throw new InvalidArgumentError(
        `${what} ${JSON.stringify(name)}: link ${JSON.stringify(path)} points outside the archive (${JSON.stringify(link.linkname)})`,
      );
    }
    if (!files.has(link.target) && !links.has(link.target)) {
      throw new InvalidArgumentError(`no target for symlink layer from ${JSON.stringify(path)} to ${JSON.stringify(link.target)}`);
    }
    path = link.target;
  }
  if (links.has(path)) throw new InvalidArgumentError(`${what} ${JSON.stringify(name)}: too many levels of links`);

  const stored = STORE_BLOB_PATH.exec(path);
  if (stored) {
    const info = await ctx.store.info(`sha256:${stored[1]}`);
    if (info) return info;
  }
  throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} not found`);
}
