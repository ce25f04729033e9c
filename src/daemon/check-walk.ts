import { BlobCorruptError, type ContentStore } from '../content/content-store.js';
import { DEFAULT_MAX_JSON_BYTES } from '../content/fs-content-store.js';
import { isDigest } from '../oci/digest.js';
import { walkImageGraph } from '../oci/image-graph-walk.js';
import { isIndexType, isManifestType, MediaType } from '../oci/media-types.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import type { Descriptor } from '../oci/types.js';
import { familiarString, parseNormalizedNamed } from '../reference/reference.js';

/**
 * What a check knows of the blobs: the size of a blob that is here and intact (undefined when it
 * is not here), and the blobs found corrupt. The embedded check answers from its scan of every blob;
 * the cluster check asks the registry (HEAD) as the walk meets each blob, and learns of corruption
 * when a JSON blob it reads does not match its digest.
 */
export interface BlobPresence {
  size(digest: string): Promise<number | undefined>;
  readonly corrupt: Set<string>;
}

/** A presence answered from a scan already made. */
export function scannedPresence(present: ReadonlyMap<string, number>, corrupt: Set<string>): BlobPresence {
  return { size: async (digest) => present.get(digest), corrupt };
}

/**
 * Walks an image's target with the one graph walk (walkImageGraph), as the garbage collector does
 * (index → manifests → config and layers), noting what each reaches, and says what is missing or
 * broken. Blobs are read through the content store.
 */
export class ImageWalker {
  private readonly parsed = new Map<string, unknown>();
  /** Each index's and manifest's children as its JSON lists them, for the blobs walked and parsed. */
  readonly edges = new Map<string, Set<string>>();

  constructor(
    private readonly content: ContentStore,
    private readonly presence: BlobPresence,
    private readonly reachable: Set<string>,
  ) {}

  /** The image's issues; `reached` gets every blob the target reaches, itself included. */
  async image(target: Descriptor, reached = new Set<string>()): Promise<string[]> {
    const issues: string[] = [];
    if (!isIndexType(target.mediaType) && !isManifestType(target.mediaType)) {
      issues.push(`its target has the media type ${JSON.stringify(target.mediaType)}, neither an index nor a manifest`);
    }
    await walkImageGraph(target, (desc, depth) => this.children(desc, depth, issues, reached), { seen: reached });
    for (const digest of reached) this.reachable.add(digest);
    return issues;
  }

  /**
   * The walk's handler: an index's manifests are walked; a manifest's config and layers are
   * checked here and counted as reached, never walked (as the garbage collector counts them).
   */
  private async children(desc: Descriptor, depth: number, issues: string[], reached: Set<string>): Promise<Descriptor[] | undefined> {
    const index = isIndexType(desc.mediaType);
    if (!index && !isManifestType(desc.mediaType)) return undefined;
    const kind = index ? 'index' : 'manifest';
    const what = depth === 0 ? `its ${kind} ${desc.digest}` : `${kind} ${desc.digest}`;
    // Below the target, an absent index or manifest is a platform this store does not have.
    const doc = await this.json(desc, what, issues, depth === 0);
    if (doc === undefined) return undefined;
    if (index) {
      const manifests = (doc as { manifests?: unknown }).manifests;
      if (!Array.isArray(manifests)) {
        issues.push(`${what} is not an image index: it has no list of manifests`);
        return undefined;
      }
      const listed = manifests.filter(isDescriptor);
      const children = this.childrenOf(desc.digest);
      for (const child of listed) children.add(child.digest);
      return listed;
    }
    const manifest = doc as { config?: unknown; layers?: unknown };
    if (!isDescriptor(manifest.config) || !Array.isArray(manifest.layers)) {
      issues.push(`${what} is not an image manifest: it lacks a config or a list of layers`);
      return undefined;
    }
    const config = manifest.config;
    const children = this.childrenOf(desc.digest);
    children.add(config.digest);
    for (const layer of manifest.layers) if (isDescriptor(layer)) children.add(layer.digest);
    for (const digest of children) reached.add(digest);
    if (config.mediaType === MediaType.ociConfig || config.mediaType === MediaType.dockerConfig) {
      await this.json(config, `config ${config.digest} of manifest ${desc.digest}`, issues, true);
    } else {
      await this.require(config, `config ${config.digest} of manifest ${desc.digest}`, issues);
    }
    for (const [i, layer] of manifest.layers.entries()) {
      if (!isDescriptor(layer)) {
        issues.push(`layer ${i} of manifest ${desc.digest} is no descriptor`);
        continue;
      }
      if (isForeignLayer(layer.mediaType)) continue;
      await this.require(layer, `layer ${layer.digest} of manifest ${desc.digest}`, issues);
    }
    return undefined;
  }

  private childrenOf(parent: string): Set<string> {
    let children = this.edges.get(parent);
    if (!children) {
      children = new Set();
      this.edges.set(parent, children);
    }
    return children;
  }

  /** Whether the blob is here, intact and of the size its descriptor says; an issue when not. */
  private async require(desc: Descriptor, what: string, issues: string[], required = true): Promise<boolean> {
    const size = this.presence.corrupt.has(desc.digest) ? undefined : await this.presence.size(desc.digest);
    if (size === undefined) {
      if (this.presence.corrupt.has(desc.digest)) issues.push(`${what} is corrupt`);
      else if (required) issues.push(`${what} is missing`);
      return false;
    }
    if (size !== desc.size) {
      issues.push(`${what} is ${size} bytes, but its descriptor says ${desc.size}`);
      return false;
    }
    return true;
  }

  /** The parsed JSON of a blob that must be (or, when not `required`, may be) here. */
  private async json(desc: Descriptor, what: string, issues: string[], required: boolean): Promise<unknown> {
    if (!(await this.require(desc, what, issues, required))) return undefined;
    if (this.parsed.has(desc.digest)) return this.parsed.get(desc.digest);
    if (desc.size > DEFAULT_MAX_JSON_BYTES) {
      issues.push(`${what} is ${desc.size} bytes, too large for a JSON document`);
      return undefined;
    }
    let bytes: Buffer;
    try {
      bytes = await this.content.readBytes(desc.digest, DEFAULT_MAX_JSON_BYTES);
    } catch (err) {
      // A store that verifies as it reads (the registry tier) finds corruption here, not in a scan.
      if (!(err instanceof BlobCorruptError)) throw err;
      this.presence.corrupt.add(desc.digest);
      issues.push(`${what} is corrupt`);
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      issues.push(`${what} is not valid JSON: ${(err as Error).message}`);
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push(`${what} is not a JSON object`);
      return undefined;
    }
    this.parsed.set(desc.digest, value);
    return value;
  }
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.digest === 'string' &&
    isDigest(d.digest) &&
    typeof d.mediaType === 'string' &&
    typeof d.size === 'number'
  );
}

function isForeignLayer(mediaType: string): boolean {
  return mediaType === MediaType.dockerLayerForeignGzip || mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.');
}

/** An image record's name as the check prints it: familiar, or `<untagged>` for a dangling image. */
export function displayName(record: ImageRecord): string {
  if (record.name === `moby-dangling@${record.target.digest}`) return '<untagged>';
  try {
    return familiarString(parseNormalizedNamed(record.name));
  } catch {
    return record.name;
  }
}

