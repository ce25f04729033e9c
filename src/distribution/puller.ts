/**
 * `docker pull` of one reference, as Docker 28.5's containerd image store does it
 * (daemon/containerd/image_pull.go over containerd v2.1.4's client.Pull): resolve the reference,
 * fetch the index and only the manifest the platform asks for (the best one for the host when
 * none is asked for; with `attestations`, Docker 29's also its attestation manifest), then its
 * config and layers, in parallel; layers are checked against the
 * config's diff IDs as containerd's unpacker checks them. Nothing already in the store is fetched.
 * `content` should be a leasing view of the store (the garbage collector's), so that what the pull
 * finds or writes stays until the image is named. Naming it is the caller's job.
 */
import type { TaskGroup } from './task-group.js';
import { openTransferSession } from './transfer-session.js';
import type { ContentStore } from '../content/content-store.js';
import { LadingError, NotFoundError } from '../errors.js';
import type { LayerFacts } from '../metadata/metadata-store.js';
import { attestationManifestFor } from '../oci/attestation.js';
import { MAX_INDEX_DEPTH } from '../oci/image-graph-walk.js';
import { MediaType, isIndexType, isLayerType, isManifestType } from '../oci/media-types.js';
import { hostPreferenceMatcher, strictMatcher, type PlatformMatcher } from '../oci/platform.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import { referenceString, type Reference } from '../reference/reference.js';
import { ExpansionError, layerExpansion, type ImportLimits } from '../layers/compression.js';
import { analyzeStoredLayer } from '../layers/layer-analysis-pool.js';
import type { LayerAnalysis } from '../layers/layer-facts.js';
import type { AuthConfig } from '../registry/auth-config.js';
import type { BlobFetcher } from '../registry/blob-fetch.js';
import { documentMediaType, pickPlatformChild, resolveRoot, unsupportedRoot } from '../registry/manifest-choice.js';
import { fetchManifest, refKey, type Repository } from '../registry/manifest-fetch.js';
import { PullProgress, type JobState } from './pull-progress.js';
import { progressMessage, shortId, statusMessage, type ProgressSink } from '../util/progress-message.js';
import type { RegistryService } from '../registry/registry-service.js';

export interface PullOptions {
  platform?: Platform;
  auth?: AuthConfig;
  progress: ProgressSink;
  signal?: AbortSignal;
  /** Layer facts the metadata store already has. */
  knownLayer: (digest: string) => Promise<LayerFacts | undefined>;
  onExchange?: (method: string, url: URL, status: number) => void;
  /** The daemon's fetcher for this store (registry.blobFetcher(store)), shared by all pulls. */
  blobs: BlobFetcher;
  /** The daemon's decompression limits, which every layer is held to as it downloads. */
  limits: ImportLimits;
  /**
   * Also fetch the attestation manifest (and its statements) that names the chosen platform
   * manifest, as Docker 29 does (API 1.52+); Docker 28.5 fetches only the image.
   */
  attestations?: boolean;
}

export interface PulledImage {
  /** The reference as pulled: `docker.io/library/alpine:latest`. */
  name: string;
  target: Descriptor;
  /** Digests this pull wrote into the store. */
  written: string[];
  /** Facts of the layers of the chosen manifest. */
  layers: LayerFacts[];
  /** Every blob of the image the pull went through (fetched or already here): the repository has them. */
  blobs: string[];
}

/** Fetches `ref` (the platform's image of an index) from its registry into `content`; naming it is the caller's job. */
export async function pullFromRegistry(
  content: ContentStore,
  registry: RegistryService,
  ref: Reference,
  options: PullOptions,
): Promise<PulledImage> {
  const { group, repo } = await openTransferSession(registry, ref, options);
  const root = await resolveRoot(repo, ref);
  const pull = new Pull(content, options.blobs, repo, ref, options, group);
  return pull.run(root);
}

class Pull {
  private readonly written: string[] = [];
  private readonly handled = new Set<string>();
  private readonly layers = new Map<string, LayerFacts>();
  private readonly states = new Map<string, 'waiting' | 'fetched' | 'existed'>();
  private readonly progress: PullProgress;
  private readonly matcher: PlatformMatcher;
  private sentPullingFrom = false;

  constructor(
    private readonly content: ContentStore,
    private readonly blobs: BlobFetcher,
    private readonly repo: Repository,
    private readonly ref: Reference,
    private readonly options: PullOptions,
    private readonly group: TaskGroup,
  ) {
    this.progress = new PullProgress(options.progress, (digest) => this.stateOf(digest));
    this.matcher = options.platform ? strictMatcher(options.platform) : hostPreferenceMatcher();
  }

  async run(root: Descriptor): Promise<PulledImage> {
    this.progress.start();
    try {
      const target = await this.settleRoot(root);
      await this.handle(target, 0);
      return { name: referenceString(this.ref), target, written: this.written, layers: [...this.layers.values()], blobs: [...this.handled] };
    } finally {
      this.progress.stop();
    }
  }

  private stateOf(digest: string): JobState {
    const state = this.states.get(digest) ?? 'waiting';
    if (state !== 'waiting') return { kind: state };
    const status = this.blobs.status(digest);
    return status ? { kind: 'downloading', offset: status.offset, total: status.total } : { kind: 'waiting' };
  }

  /**
   * The root's media type comes from the registry's Content-Type. When that is not a manifest or
   * index type, the document's own mediaType (or its shape) decides; failing that, it is refused.
   */
  private async settleRoot(root: Descriptor): Promise<Descriptor> {
    if (isIndexType(root.mediaType) || isManifestType(root.mediaType)) return root;
    const mediaType = documentMediaType(await this.fetchDocument(root));
    if (!mediaType) throw unsupportedRoot(root, referenceString(this.ref));
    return { ...root, mediaType };
  }

  private async handle(desc: Descriptor, depth: number): Promise<void> {
    if (depth > MAX_INDEX_DEPTH) throw new LadingError('invalid-argument', `image ${desc.digest} nests indexes too deeply`);
    this.handled.add(desc.digest);
    const isIndex = isIndexType(desc.mediaType);
    const isManifest = isManifestType(desc.mediaType);
    const isConfig = desc.mediaType === MediaType.dockerConfig || desc.mediaType === MediaType.ociConfig;
    if (!isIndex && !isManifest && !isConfig) this.progress.add(desc);
    if (isManifest) {
      if (!this.sentPullingFrom) {
        this.sentPullingFrom = true;
        this.options.progress(statusMessage(this.ref.tag ?? referenceString(this.ref), `Pulling from ${this.ref.path}`));
      }
      // Everything already here: no layer lines at all, not even Already exists.
      if (await this.available(desc)) this.progress.hideLayers = true;
    }
    if (isIndex || isManifest) {
      const data = await this.fetchDocument(desc);
      if (isIndex) await this.handleIndex(desc, data, depth);
      else await this.handleManifest(desc, data, depth);
      return;
    }
    await this.fetchBlob(desc, false);
  }

  /** A manifest or index: read from the store, or fetched (capped, verified) and stored. */
  private async fetchDocument(desc: Descriptor): Promise<Buffer> {
    if (await this.content.has(desc.digest)) return this.content.readBytes(desc.digest);
    const data = await fetchManifest(this.repo, desc);
    const info = await this.content.writeBytes(data, { digest: desc.digest, size: desc.size });
    this.written.push(info.digest);
    return data;
  }

  private async handleIndex(desc: Descriptor, data: Buffer, depth: number): Promise<void> {
    const index = parseDocument<ImageIndex>(data, desc);
    if (!Array.isArray(index.manifests)) throw new LadingError('invalid-argument', `index ${desc.digest}: manifests is not a list`);
    const chosen = pickPlatformChild(index.manifests, this.matcher);
    if (!chosen) throw new NotFoundError('no match for platform in manifest: not found');
    const attestation = this.options.attestations ? attestationManifestFor(index.manifests, chosen.digest) : undefined;
    await this.group.all([this.handle(chosen, depth + 1), ...(attestation ? [this.fetchAttestation(attestation, depth + 1)] : [])]);
  }

  /**
   * Docker 29 hands the attestation manifest to containerd as a referrer of the platform manifest
   * (a child without a platform): it and all it lists are fetched; its statements, not being
   * layers, show Download complete but no Pulling fs layer.
   */
  private async fetchAttestation(desc: Descriptor, depth: number): Promise<void> {
    this.handled.add(desc.digest);
    await this.handleManifest(desc, await this.fetchDocument(desc), depth);
  }

  private async handleManifest(desc: Descriptor, data: Buffer, depth: number): Promise<void> {
    const manifest = parseDocument<ImageManifest>(data, desc);
    if (!manifest.config || !Array.isArray(manifest.layers)) {
      throw new LadingError('invalid-argument', `manifest ${desc.digest}: not an image manifest`);
    }
    const { config, layers } = manifest;
    const isImage = (config.mediaType === MediaType.dockerConfig || config.mediaType === MediaType.ociConfig) && layers.every((l) => isLayerType(l.mediaType));
    const analyses = new Map<string, LayerAnalysis>();
    let diffIds: string[] | undefined;
    let placed = 0;
    // Layers are put in place in order, as the unpacker applies them, as soon as they are here.
    const place = async (): Promise<void> => {
      if (!isImage || diffIds === undefined) return;
      if (diffIds.length !== layers.length) {
        throw new LadingError('invalid-argument', `number of layers and diffIDs don't match: ${layers.length} != ${diffIds.length}`);
      }
      while (placed < layers.length) {
        const layer = layers[placed];
        const analysis = layer && analyses.get(layer.digest);
        if (!layer || !analysis) return;
        if (analysis.diffId !== diffIds[placed]) {
          throw new LadingError('invalid-argument', `wrong diff id calculated on extraction ${JSON.stringify(diffIds[placed])}`);
        }
        this.progress.placedLayer(layer.digest);
        placed++;
      }
    };
    // containerd's unpacker skips the layers whose chain is already unpacked and hands the rest to
    // the fetch handlers; Lading takes a leading run of layers already in the store for that chain.
    let skip = 0;
    while (skip < layers.length && (await this.content.has(layers[skip]?.digest ?? ''))) skip++;
    const tasks = [
      (async () => {
        await this.handle(config, depth + 1);
        if (isImage) {
          const configJson = parseDocument<ImageConfig>(await this.content.readBytes(config.digest), config);
          diffIds = Array.isArray(configJson.rootfs?.diff_ids) ? configJson.rootfs.diff_ids : [];
          await place();
        }
      })(),
      ...layers.map(async (layer, i) => {
        if (i >= skip) {
          if (isLayerType(layer.mediaType)) this.options.progress(progressMessage({ id: shortId(layer.digest), action: 'Pulling fs layer' }));
          this.progress.add(layer);
        }
        const analysis = await this.fetchBlob(layer, isImage);
        if (analysis) {
          analyses.set(layer.digest, analysis);
          await place();
        }
      }),
    ];
    await this.group.all(tasks);
  }

  /** Fetches a blob unless the store has it; for layers, returns its facts. */
  private async fetchBlob(desc: Descriptor, analyze: boolean): Promise<LayerAnalysis | undefined> {
    this.handled.add(desc.digest);
    if (await this.content.has(desc.digest)) {
      if (!this.states.has(desc.digest)) this.states.set(desc.digest, 'existed');
      if (!analyze) return undefined;
      const known = await this.options.knownLayer(desc.digest);
      if (known) {
        this.layers.set(desc.digest, known);
        return { ...known, compression: 'none' };
      }
      return this.noteLayer(desc, await this.analyze(desc));
    }
    let fetched;
    try {
      fetched = await this.blobs.fetch(this.repo, desc, { analyze: analyze && this.options.limits, signal: this.group.signal, store: this.content });
    } catch (err) {
      // A layer refused mid-download (a decompression bomb) is named as one refused after it.
      throw err instanceof ExpansionError ? extractFailure(desc, err) : err;
    }
    this.written.push(fetched.info.digest);
    this.states.set(desc.digest, 'fetched');
    if (!analyze) return undefined;
    return this.noteLayer(desc, fetched.analysis ?? (await this.analyze(desc)));
  }

  /** The facts of a layer that is stored already (or whose fetch, shared with another pull, did not analyse it). */
  private analyze(desc: Descriptor): Promise<LayerAnalysis | Error> {
    return analyzeStoredLayer(this.content, desc, layerExpansion(this.options.limits), this.group.signal).catch((err: Error) => err);
  }

  private noteLayer(desc: Descriptor, analysis: LayerAnalysis | Error): LayerAnalysis {
    if (analysis instanceof Error) throw extractFailure(desc, analysis);
    this.layers.set(desc.digest, { digest: desc.digest, diffId: analysis.diffId, unpackedSize: analysis.unpackedSize });
    return analysis;
  }

  /** containerd's images.Check for one manifest: it, its config and all its layers are here. */
  private async available(desc: Descriptor): Promise<boolean> {
    if (!(await this.content.has(desc.digest))) return false;
    let manifest: ImageManifest;
    try {
      manifest = parseDocument<ImageManifest>(await this.content.readBytes(desc.digest), desc);
    } catch {
      return false;
    }
    const needed = [manifest.config, ...(manifest.layers ?? [])];
    for (const d of needed) if (!d || !(await this.content.has(d.digest))) return false;
    return true;
  }
}

/** containerd's unpacker's words for a layer it cannot apply. */
function extractFailure(desc: Descriptor, cause: Error): LadingError {
  return new LadingError('invalid-argument', `failed to extract layer ${desc.digest} (${refKey(desc)}): ${cause.message}`, { cause });
}

function parseDocument<T>(data: Buffer, desc: Descriptor): T {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as T;
  } catch (err) {
    throw new LadingError('invalid-argument', `content ${desc.digest} is not valid JSON: ${(err as Error).message}`);
  }
}
