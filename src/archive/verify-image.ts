import { InvalidArgumentError } from '../errors.js';
import { isDigest } from '../oci/digest.js';
import { MediaType, isIndexType, isLayerType, isManifestType } from '../oci/media-types.js';
import { MAX_INDEX_DEPTH, walkImageGraph } from '../oci/image-graph-walk.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { ImportContext } from './import-context.js';

/** Content an image needs is neither in the archive nor in the store. */
export class MissingContentError extends InvalidArgumentError {}

/** Checks the shape of a descriptor read from JSON: what is used later must be there. */
export function checkDescriptor(value: unknown, where: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) {
    throw new InvalidArgumentError(`${where}: descriptor is not an object`);
  }
  if (typeof d.mediaType !== 'string') throw new InvalidArgumentError(`${where}: descriptor has no mediaType`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) {
    throw new InvalidArgumentError(`${where}: invalid digest ${brief(d.digest)}`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new InvalidArgumentError(`${where}: invalid size ${brief(d.size)}`);
  }
  // The rest must have the types Go's Descriptor gives them: stored and shown later, never walked blind.
  if (d.annotations !== undefined && d.annotations !== null && !isStringMap(d.annotations)) {
    throw new InvalidArgumentError(`${where}: annotations must map strings to strings`);
  }
  if (d.urls !== undefined && d.urls !== null && !isStringList(d.urls)) {
    throw new InvalidArgumentError(`${where}: urls must be a list of strings`);
  }
  if (d.platform !== undefined && d.platform !== null && !isPlatform(d.platform)) {
    throw new InvalidArgumentError(`${where}: invalid platform ${brief(d.platform)}`);
  }
  for (const key of ['data', 'artifactType'] as const) {
    if (d[key] !== undefined && d[key] !== null && typeof d[key] !== 'string') {
      throw new InvalidArgumentError(`${where}: ${key} must be a string`);
    }
  }
  // Go's Descriptor keeps its own fields only, empty ones left out: what is stored is that.
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls && d.urls.length > 0) out.urls = [...d.urls];
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = { ...d.annotations };
  if (d.data) out.data = d.data;
  if (d.platform) out.platform = cleanPlatform(d.platform);
  if (d.artifactType) out.artifactType = d.artifactType;
  return out;
}

function cleanPlatform(p: Platform): Platform {
  const out: Platform = { architecture: p.architecture ?? '', os: p.os ?? '' };
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features'] && p['os.features'].length > 0) out['os.features'] = [...p['os.features']];
  if (p.variant) out.variant = p.variant;
  return out;
}

/** A value for an error message: JSON, cut short (what a hostile archive says can be huge). */
function brief(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function isStringMap(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')
  );
}

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isPlatform(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const p = value as Record<string, unknown>;
  const optionalString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';
  return (
    optionalString(p.architecture) &&
    optionalString(p.os) &&
    optionalString(p.variant) &&
    optionalString(p['os.version']) &&
    (p['os.features'] === undefined || p['os.features'] === null || isStringList(p['os.features']))
  );
}

/**
 * Checks an image's top-level target: an index or manifest that is present (in the archive or
 * already in the store) and complete, see verifyContent.
 */
export async function verifyTarget(ctx: ImportContext, target: Descriptor, what: string): Promise<void> {
  if (!isIndexType(target.mediaType) && !isManifestType(target.mediaType)) {
    throw new InvalidArgumentError(`${what}: unsupported media type ${target.mediaType}`);
  }
  await verifyContent(ctx, target, what);
}

/**
 * Checks a manifest or index and what it needs. A manifest needs its config and layers (foreign
 * layers excepted) and, for an image, layers whose diffIDs are the config's rootfs.diff_ids. An
 * index's children are checked only when the archive carries them: an archive may hold some
 * platforms of a multi-platform image and not the others, and may hold some of a platform's content
 * and not the rest when `ctx.mustBeWhole` lets it (that platform is then not Available).
 */
async function verifyContent(ctx: ImportContext, target: Descriptor, what: string): Promise<void> {
  // Below the target, a document whose content is missing is let be when it, or a document above
  // it, need not be whole (the index's child that need not be whole is let be with what is under
  // it); those on the way up to that child are then not taken for verified, so that another path
  // checks them again.
  const parents = new Map<string, Descriptor | undefined>();
  const lenient = (desc: Descriptor): boolean => {
    for (let at: Descriptor | undefined = desc; at && parents.get(at.digest); at = parents.get(at.digest)) {
      if (!ctx.mustBeWhole(at)) return true;
    }
    return false;
  };
  const check = async (desc: Descriptor, _depth: number, parent: Descriptor | undefined): Promise<Descriptor[] | undefined> => {
    parents.set(desc.digest, parent);
    try {
      return await checkDocument(ctx, desc, parent ? `manifest ${desc.digest} of index ${parent.digest}` : what);
    } catch (err) {
      if (!(err instanceof MissingContentError) || !lenient(desc)) throw err;
      for (let at: Descriptor | undefined = desc; at; at = ctx.mustBeWhole(at) ? parents.get(at.digest) : undefined) {
        ctx.verified.delete(at.digest);
      }
      return undefined;
    }
  };
  await walkImageGraph(target, check, {
    seen: ctx.verified,
    tooDeep: () => new InvalidArgumentError(`${what}: indexes nest more than ${MAX_INDEX_DEPTH} levels deep`),
  });
}

/** One manifest or index; for an index, the children the archive carries, to check in turn. */
async function checkDocument(ctx: ImportContext, desc: Descriptor, what: string): Promise<Descriptor[]> {
  await requireBlob(ctx, desc, what);
  const kind = isIndexType(desc.mediaType) ? 'index' : 'manifest';
  const doc = await ctx.readJson(desc.digest, `${kind} ${desc.digest}`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InvalidArgumentError(`${kind} ${desc.digest} is not a JSON object`);
  }
  if (kind === 'index') return carriedChildren(ctx, desc.digest, doc as Record<string, unknown>);
  await verifyManifest(ctx, desc.digest, doc as Record<string, unknown>);
  return [];
}

function carriedChildren(ctx: ImportContext, digest: string, index: Record<string, unknown>): Descriptor[] {
  const manifests = index.manifests ?? [];
  if (!Array.isArray(manifests)) throw new InvalidArgumentError(`index ${digest}: manifests is not a list`);
  return manifests
    .map((value, i) => checkDescriptor(value, `index ${digest}, manifests[${i}]`))
    .filter((child) => (isIndexType(child.mediaType) || isManifestType(child.mediaType)) && ctx.archiveDigests.has(child.digest));
}

async function verifyManifest(ctx: ImportContext, digest: string, manifest: Record<string, unknown>): Promise<void> {
  const config = checkDescriptor(manifest.config, `manifest ${digest}, config`);
  await requireBlob(ctx, config, `config of manifest ${digest}`);
  const layersValue = manifest.layers ?? [];
  if (!Array.isArray(layersValue)) throw new InvalidArgumentError(`manifest ${digest}: layers is not a list`);
  const layers = layersValue.map((value, i) => checkDescriptor(value, `manifest ${digest}, layers[${i}]`));
  const foreign = layers.map((layer) => isForeignLayer(layer));
  for (const [i, layer] of layers.entries()) {
    if (!foreign[i]) await requireBlob(ctx, layer, `layer ${i} of manifest ${digest}`);
  }

  // Only images have diffIDs: attestations and other artifacts carry non-layer blobs.
  const isImageConfig = config.mediaType === MediaType.dockerConfig || config.mediaType === MediaType.ociConfig;
  if (!isImageConfig || !layers.every((layer) => isLayerType(layer.mediaType))) return;
  const diffIds = await readDiffIds(ctx, config.digest);
  if (diffIds.length !== layers.length) {
    throw new InvalidArgumentError(
      `manifest ${digest} has ${layers.length} layers but its config ${config.digest} lists ${diffIds.length} diff IDs`,
    );
  }
  for (const [i, layer] of layers.entries()) {
    if (foreign[i]) continue;
    const facts = await ctx.layerFacts(layer, `layer ${i} of manifest ${digest}:`);
    if (facts.diffId !== diffIds[i]) {
      throw new InvalidArgumentError(
        `layer ${i} (${layer.digest}) of manifest ${digest} has diff ID ${facts.diffId}, but its config lists ${diffIds[i]}`,
      );
    }
  }
}

async function readDiffIds(ctx: ImportContext, configDigest: string): Promise<string[]> {
  const config = (await ctx.readJson(configDigest, `image config ${configDigest}`)) as {
    rootfs?: { diff_ids?: unknown };
  } | null;
  const diffIds = config?.rootfs?.diff_ids ?? [];
  if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === 'string')) {
    throw new InvalidArgumentError(`image config ${configDigest}: rootfs.diff_ids is not a list of digests`);
  }
  return diffIds as string[];
}

/** The blob must be in the store (this archive put it there, or an earlier pull or load did). */
async function requireBlob(ctx: ImportContext, desc: Descriptor, what: string): Promise<void> {
  const info = await ctx.store.info(desc.digest);
  if (!info) throw new MissingContentError(`${what}: content ${desc.digest} is missing from the archive`);
  if (info.size !== desc.size) {
    throw new InvalidArgumentError(`${what}: ${desc.digest} is ${info.size} bytes, but its descriptor says ${desc.size}`);
  }
}

/** Layers that registries serve from elsewhere and `docker save` leaves out. */
function isForeignLayer(layer: Descriptor): boolean {
  return (
    layer.mediaType === MediaType.dockerLayerForeignGzip ||
    layer.mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.')
  );
}
