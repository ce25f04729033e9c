/**
 * `docker save`: the archive containerd v2.1.4's exporter (core/images/archive/exporter.go) writes
 * for Docker 28.5 — an OCI layout (`oci-layout`, `index.json`, `blobs/sha256/…`) plus Docker's
 * `manifest.json`, entries sorted by name, each blob streamed from the content store and checked
 * against its digest on the way. Everything that can fail for want of content is read before the
 * first byte; after it, only a blob that went missing or changed can stop the stream.
 */
import type { ContentStore } from '../content/content-store.js';
import { InvalidArgumentError, LadingError, NotFoundError, withContext } from '../errors.js';
import { descriptorJson } from '../oci/descriptor-json.js';
import { isDigest } from '../oci/digest.js';
import { walkImageGraph } from '../oci/image-graph-walk.js';
import { MediaType, isIndexType, isManifestType } from '../oci/media-types.js';
import type { PlatformMatcher } from '../oci/platform.js';
import type { Descriptor } from '../oci/types.js';
import { familiarString, parseNormalizedNamed, tagNameOnly } from '../reference/reference.js';
import { goMarshal } from '../util/go-json.js';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, ociRefName } from './image-name.js';
import { TAR_TRAILER, tarHeader, tarPadding, type EntryType } from './tar-header.js';

export interface ExportOptions {
  /** The archive's images in index.json order: manifests or indexes, name annotations included. */
  manifests: Descriptor[];
  /** Which children of an index go in (WithPlatform); also picks the one manifest.json names. */
  platform?: PlatformMatcher;
  /** Children the platform does not match go in too (WithAllPlatforms). */
  allPlatforms?: boolean;
  /**
   * WithSkipMissing: a manifest that is not here is left out, and so are the config and layers of
   * one that lacks any of them (the manifest itself still goes in).
   */
  skipMissing?: boolean;
  /** WithSkipNonDistributableBlobs: foreign and non-distributable layers are not written. */
  skipNonDistributable?: boolean;
  /** WithSkipDockerManifest: no manifest.json. */
  skipDockerManifest?: boolean;
}

export interface PreparedArchive {
  /** Digests of the blobs the archive will carry, each once: hold them until the stream ends. */
  blobs: string[];
  /** The tar, produced as the consumer asks for it (one blob open at a time). Iterate once. */
  chunks(): AsyncGenerator<Buffer>;
}

interface TarRecord {
  name: string;
  type: EntryType;
  mode: number;
  size: number;
  /** A blob of the store, or bytes made here; none for a directory. */
  blob?: string;
  data?: Buffer;
}

interface ExportManifest {
  manifest: Descriptor;
  names: string[];
}

/**
 * Descriptors named for the archive as containerd's WithManifest(desc, name) names them: the full
 * reference in io.containerd.image.name, the part after the repository in the OCI ref name.
 */
export function withImageName(desc: Descriptor, name: string): Descriptor {
  const ref = parseNormalizedNamed(name);
  return { ...desc, annotations: { ...desc.annotations, [ANNOTATION_IMAGE_NAME]: name, [ANNOTATION_REF_NAME]: ociRefName(ref) } };
}

/** Plans the archive: reads every index and manifest it needs and fails now if one is missing. */
export async function prepareExport(store: ContentStore, options: ExportOptions): Promise<PreparedArchive> {
  const exporter = new Exporter(store, options);
  const records = await exporter.records();
  const blobs = [...new Set(records.flatMap((r) => (r.blob ? [r.blob] : [])))];
  return { blobs, chunks: () => writeTar(store, records) };
}

class Exporter {
  private readonly records_: TarRecord[] = [];
  private readonly algorithms = new Set<string>();
  /** Manifests that go into manifest.json, by digest, in the order they were met. */
  private readonly dockerManifests = new Map<string, ExportManifest>();
  /** Index digest -> the manifest chosen from it for manifest.json ('' for none). */
  private readonly resolvedIndexes = new Map<string, string>();
  /** Blobs already walked: an index may list one child many times, at every level. */
  private readonly walked = new Set<string>();

  constructor(
    private readonly store: ContentStore,
    private readonly options: ExportOptions,
  ) {}

  async records(): Promise<TarRecord[]> {
    const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
    this.records_.push({ name: 'oci-layout', type: 'file', mode: 0o444, size: layout.length, data: layout });

    // containerd drops (with a warning) a target whose blob it cannot stat, from index.json too.
    const manifests: Descriptor[] = [];
    for (const desc of this.options.manifests) if (await this.store.has(desc.digest)) manifests.push(desc);

    for (const desc of manifests) {
      if (isManifestType(desc.mediaType)) await this.addManifest(desc);
      else if (isIndexType(desc.mediaType)) await this.addIndex(desc);
      else throw new InvalidArgumentError('only manifests may be exported: invalid argument');
    }

    const index = Buffer.from(
      goMarshal({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: manifests.map(descriptorJson) }),
    );
    this.records_.push({ name: 'index.json', type: 'file', mode: 0o644, size: index.length, data: index });

    if (!this.options.skipDockerManifest && this.dockerManifests.size > 0) {
      const json = await this.dockerManifestJson().catch((err: unknown) => {
        throw withContext(err, 'unable to create manifests file');
      });
      this.records_.push({ name: 'manifest.json', type: 'file', mode: 0o644, size: json.length, data: json });
    }

    if (this.algorithms.size > 0) {
      this.records_.push({ name: 'blobs/', type: 'directory', mode: 0o755, size: 0 });
      for (const alg of this.algorithms) this.records_.push({ name: `blobs/${alg}/`, type: 'directory', mode: 0o755, size: 0 });
    }
    return this.records_;
  }

  private async addManifest(desc: Descriptor): Promise<void> {
    let entry = this.dockerManifests.get(desc.digest);
    if (!entry) {
      await this.walk(desc);
      entry = { manifest: desc, names: [] };
      this.dockerManifests.set(desc.digest, entry);
    }
    const name = desc.annotations?.[ANNOTATION_IMAGE_NAME];
    if (name) entry.names.push(name);
  }

  /**
   * The index and its children; one child (the platform's best, children without a platform last)
   * stands for the index in manifest.json.
   */
  private async addIndex(desc: Descriptor): Promise<void> {
    let chosen = this.resolvedIndexes.get(desc.digest);
    if (chosen === undefined) {
      checkDigest(desc.digest);
      this.addBlob(desc);
      const index = (await this.readJson(desc)) as { manifests?: unknown };
      const children = Array.isArray(index.manifests) ? (index.manifests as Descriptor[]) : [];
      const { platform } = this.options;
      const candidates: Descriptor[] = [];
      for (const child of children) {
        if (platform) {
          if (!child.platform || platform.match(child.platform)) candidates.push(child);
          else if (!this.options.allPlatforms) continue;
        }
        await this.walk(child);
      }
      chosen = '';
      if (candidates.length > 0 && platform) {
        candidates.sort((a, b) => {
          if (!a.platform) return b.platform ? 1 : 0;
          if (!b.platform) return -1;
          return platform.less(a.platform, b.platform) ? -1 : platform.less(b.platform, a.platform) ? 1 : 0;
        });
        const first = candidates[0]!;
        chosen = first.digest;
        this.dockerManifests.set(chosen, { manifest: first, names: [] });
      } else if (platform) {
        throw new NotFoundError('no manifest found for platform: not found');
      }
      this.resolvedIndexes.set(desc.digest, chosen);
    }
    const name = desc.annotations?.[ANNOTATION_IMAGE_NAME];
    if (chosen && name) this.dockerManifests.get(chosen)?.names.push(name);
  }

  /** getRecords: a descriptor and everything below it, depth first, each blob once. */
  private async walk(desc: Descriptor): Promise<void> {
    await walkImageGraph(
      desc,
      async (d) => {
        const children = await this.children(d);
        if (children === 'skip') return undefined;
        checkDigest(d.digest);
        this.addBlob(d);
        this.algorithms.add(d.digest.slice(0, d.digest.indexOf(':')));
        return children;
      },
      { seen: this.walked },
    );
  }

  /** images.Children, or WithSkipMissing's handler around it. */
  private async children(desc: Descriptor): Promise<Descriptor[] | 'skip'> {
    if (isManifestType(desc.mediaType)) {
      if (this.options.skipMissing && !(await this.store.has(desc.digest))) return 'skip';
      const manifest = (await this.readJson(desc)) as { config?: Descriptor; layers?: Descriptor[] };
      const children = [...(manifest.config ? [manifest.config] : []), ...(Array.isArray(manifest.layers) ? manifest.layers : [])];
      if (this.options.skipMissing) {
        for (const child of children) if (!(await this.store.has(child.digest))) return [];
      }
      return children;
    }
    if (isIndexType(desc.mediaType)) {
      const index = (await this.readJson(desc)) as { manifests?: Descriptor[] };
      return Array.isArray(index.manifests) ? index.manifests : [];
    }
    return [];
  }

  private addBlob(desc: Descriptor): void {
    if (this.options.skipNonDistributable && isNonDistributable(desc.mediaType)) return;
    this.records_.push({ name: blobPath(desc.digest), type: 'file', mode: 0o444, size: desc.size, blob: desc.digest });
  }

  /** manifest.json: Config, RepoTags (familiar, `latest` added) and Layers of each manifest. */
  private async dockerManifestJson(): Promise<Buffer> {
    const entries: object[] = [];
    for (const { manifest, names } of this.dockerManifests.values()) {
      const doc = (await this.readJson(manifest)) as { config?: Descriptor; layers?: Descriptor[] };
      const configDigest = doc.config?.digest ?? '';
      checkDigest(configDigest);
      const layers = Array.isArray(doc.layers) ? doc.layers.map((l) => blobPath(l.digest)) : [];
      entries.push({
        Config: blobPath(configDigest),
        RepoTags: names.length > 0 ? names.map(familiarizeReference) : null,
        Layers: layers.length > 0 ? layers : null,
      });
    }
    return Buffer.from(goMarshal(entries));
  }

  private async readJson(desc: Descriptor): Promise<object> {
    let bytes: Buffer;
    try {
      bytes = await this.store.readBytes(desc.digest);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`content digest ${desc.digest}: not found`);
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new InvalidArgumentError(`content ${desc.digest} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(`content ${desc.digest} is not a JSON object`);
    }
    return value;
  }
}

/** Entries in name order, each name once; then the trailer. */
async function* writeTar(store: ContentStore, records: TarRecord[]): AsyncGenerator<Buffer> {
  const sorted = [...records].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let last: string | undefined;
  for (const record of sorted) {
    if (record.name === last) continue;
    last = record.name;
    yield tarHeader(record.name, record.type, record.mode, record.size);
    if (record.data) yield record.data;
    else if (record.blob) yield* copyBlob(store, record);
    if (record.size % 512 !== 0) yield tarPadding(record.size);
  }
  yield TAR_TRAILER;
}

/**
 * A blob from the store, as it goes out. The store's stream checks it against its digest
 * (containerd's copy does the same) and fails with a BlobCorruptError before its last chunk.
 */
async function* copyBlob(store: ContentStore, record: TarRecord): AsyncGenerator<Buffer> {
  const digest = record.blob ?? '';
  let copied = 0;
  const stream = store.createReadStream(digest);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      copied += chunk.length;
      if (copied > record.size) throw new LadingError('internal', `failed to copy to tar: archive/tar: write too long (${record.name})`);
      yield chunk;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`failed to get reader: content digest ${digest}: not found`);
    }
    throw err;
  } finally {
    stream.destroy();
  }
  if (copied !== record.size) throw new LadingError('internal', `unexpected copy size for ${record.name}`);
}

/** containerd's familiarizeReference: `docker.io/library/alpine:latest` -> `alpine:latest`. */
function familiarizeReference(name: string): string {
  try {
    return familiarString(tagNameOnly(parseNormalizedNamed(name)));
  } catch (err) {
    throw new InvalidArgumentError(`failed to parse ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
}

/** images.IsNonDistributable. */
function isNonDistributable(mediaType: string): boolean {
  return (
    mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.') ||
    mediaType.startsWith('application/vnd.docker.image.rootfs.foreign.')
  );
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

function checkDigest(digest: string): void {
  if (!isDigest(digest)) throw new InvalidArgumentError('invalid checksum digest format');
}
