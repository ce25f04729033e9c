import type { GcQueue } from '../gc/gc-queue.js';
import type { Readable } from 'node:stream';
import type { ContentStore } from '../content/content-store.js';
import { EventBus } from '../events/event-bus.js';
import type { ImageRecord, MetadataStore } from '../metadata/metadata-store.js';
import { hostPlatform, hostPreferenceMatcher, strictMatcher } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { familiarString, parseNormalizedNamed, referenceString, tagNameOnly, type Reference } from '../reference/reference.js';
import { importArchive } from '../archive/import-archive.js';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from '../layers/compression.js';
import { GO_ZERO_TIME, nowRfc3339Nano } from '../util/go-time.js';
import { ContentReader } from '../content/content-reader.js';
import { imageDiskUsage, type ImageDiskUsage } from './disk-usage.js';
import { exportImages } from './image-export.js';
import { imageAttestations, type AttestationOptions, type AttestationStatement } from './image-attestations.js';
import { imageIdentity } from './image-identity.js';
import { imageHistory, type HistoryItem } from './image-history.js';
import { candidateRecords, listImages, TargetFactsStore, type ListOptions } from './image-list.js';
import { ImagePages, type ListPageOptions } from './image-pages.js';
import { danglingName, repoTagsAndDigests } from './image-names.js';
import { collectInspectFacts, configFields, type InspectFacts } from './inspect.js';
import type { DeleteResponse, ImageInspect, ImageSummary, ListPage, PruneReport } from './explorer-api-types.js';
import { Leases } from '../gc/leases.js';
import { GarbageCollector, type CollectOptions } from '../gc/garbage-collector.js';
import { imageEventAttributes } from './image-events.js';
import type { FilterArgs } from '../filters/filter-args.js';
import { pruneImages } from './image-prune.js';
import { removeImage, type RemoveOptions } from './image-remove.js';
import { nameImage } from './image-naming.js';
import { tagImage } from './image-tag.js';
import { resolveImage } from './resolve.js';
import { pullImage, type PullImageOptions } from './image-pull.js';
import { pushImage, type PushImageOptions } from './image-push.js';
import { writeImportedImage } from './image-import.js';
import { RegistryService } from '../registry/registry-service.js';
import { platformNotFound } from './platform-not-found.js';
import { checkProvidesPlatform, mustBeWhole } from './load-platform.js';
import type { ProgressSink } from '../util/progress-message.js';
import { remoteInspectFacts, type RemoteInspectOptions } from './remote-inspect.js';
import { describeCorruptBlob, reportingCorruption } from './corrupt-blob-report.js';
import { OperationLog, type Note } from './operation-log.js';
import { silentLogger, type LogFields, type Logger } from '../util/logger.js';

export interface InspectOptions {
  manifests: boolean;
  platform?: Platform;
}

export interface LoadOptions {
  /** Docker 28.5's one platform (API 1.48-1.51). */
  platform?: Platform;
  /** Docker 29.7's platforms (API 1.52+): any of them makes an image whole; 29.7's error texts. */
  platforms?: Platform[];
  /** Where `Loading layer` lines go while the archive is read (docker load without quiet). */
  progress?: ProgressSink;
  /** Gives the load up (its client went away): it stops and fails, leaving nothing behind. */
  signal?: AbortSignal;
}

export interface ImportOptions {
  /** `repo:tag`; the image is dangling without. */
  ref?: Reference;
  platform?: Platform;
  /** The history comment. */
  message: string;
  /** Dockerfile instructions applied to the config (import-changes.ts). */
  changes: readonly string[];
  signal?: AbortSignal;
}

export interface LoadedImage {
  /** `alpine:latest` for a named image; the target digest for an untagged one. */
  name: string;
  tagged: boolean;
}

/** The storage driver Docker's containerd store reports as GraphDriver.Name for its snapshotter. */
export const SNAPSHOTTER = 'overlayfs';

/**
 * The image service: it decides what images are and answers for them. It knows nothing of HTTP;
 * it reads and writes through the content store and the metadata store.
 */
export class ImageService {
  readonly reader: ContentReader;
  readonly events = new EventBus();
  /** Deletes blobs no image uses; its `reading` sections see no blob vanish (garbage-collector.ts). */
  readonly gc: GarbageCollector;
  /** The operator's line for each change of the store (operation-log.ts); its observer feeds the metrics. */
  readonly ops: OperationLog;

  /** The content store, read through `reportingCorruption`: a blob that fails its digest is logged with its images. */
  readonly content: ContentStore;

  constructor(
    content: ContentStore,
    readonly metadata: MetadataStore,
    /** Registries: endpoints, credentials, tokens, shared fetches (src/registry/). */
    readonly registry: RegistryService = new RegistryService(),
    log: Logger = silentLogger,
    /** How far what a load or pull decompresses may expand (--max-unpacked-layer-size, --max-decompression-ratio). */
    readonly limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
    /** What writes in flight hold; shared with the other replicas in cluster mode (gc/leases.ts). */
    private readonly leases: Leases = new Leases(),
    /** GC's review queue replicas share (cluster mode, gc/gc-queue.ts); a daemon alone collects in process. */
    gcQueue?: GcQueue,
  ) {
    this.ops = new OperationLog(log);
    this.content = reportingCorruption(content, (err) => {
      describeCorruptBlob(metadata, err).then(
        (line) => log.error(line),
        () => log.error(`store corruption: blob ${err.digest} does not match its digest`),
      );
    });
    this.reader = new ContentReader(this.content);
    this.gc = new GarbageCollector(this.content, metadata, this.reader, this.leases, gcQueue);
  }

  /** Changes whenever any answer of this service may have changed. */
  get generation(): number {
    return this.metadata.generation;
  }

  /**
   * `docker info`'s Images: one per target however many names it has, as Docker's containerd store
   * counts since moby 00463b9 ("Fix containerd image count"; 28.5 still counted names).
   */
  imageCount(): Promise<number> {
    return this.metadata.countTargets();
  }

  /** Facts of image targets for the list and disk usage, kept in the metadata store (image-list.ts). */
  private readonly targetFacts = new TargetFactsStore(this);

  /**
   * `docker images`: one summary per target, newest first; read as inspect reads, no sweep
   * meanwhile. Only the records a `reference` filter can match are read.
   */
  list(options: ListOptions): Promise<ImageSummary[]> {
    return this.gc.reading(async () => {
      const summaries = await listImages(await this.targetFacts.snapshot(await candidateRecords(this.metadata, options.filters)), options);
      if (!options.identity) return summaries;
      return Promise.all(
        summaries.map(async (s) => {
          const identity = imageIdentity(await this.metadata.blobSources(s.descriptor.digest));
          return identity ? { ...s, identity } : s;
        }),
      );
    });
  }

  private readonly pages = new ImagePages(this, this.targetFacts);

  /**
   * A page of the list (newest first, with the explorer's search) read from the rows the metadata
   * keeps per target, without the other images' facts; undefined when its filters need the whole
   * list (image-pages.ts).
   */
  listPage(options: ListPageOptions): Promise<ListPage | undefined> {
    return this.gc.reading(() => this.pages.page(options));
  }

  /** The images part of `docker system df`. */
  diskUsage(): Promise<ImageDiskUsage> {
    return this.gc.reading(async () => imageDiskUsage(await this.targetFacts.snapshot(await this.metadata.listImages())));
  }

  /** Resolved and walked in one read section: a concurrent removal never leaves it half a world. */
  inspect(refOrId: string, options: InspectOptions): Promise<ImageInspect> {
    return this.gc.reading(() => this.inspectNow(refOrId, options));
  }

  private async inspectNow(refOrId: string, options: InspectOptions): Promise<ImageInspect> {
    const record = await resolveImage(this.metadata, refOrId);
    const records = await this.metadata.imagesByTarget(record.target.digest);
    const matcher = options.platform ? strictMatcher(options.platform) : hostPreferenceMatcher();
    const facts = await collectInspectFacts(this.reader, this.layerSizes, record.target, matcher);
    const identity = imageIdentity(await this.metadata.blobSources(record.target.digest));
    return { ...inspectDocument(refOrId, facts, records, latest(records.map((r) => r.updatedAt)), options), ...(identity ? { identity } : {}) };
  }

  /**
   * Lading's remote inspect: the document `ref`'s registry would give after a pull, without the
   * pull (remote-inspect.ts). No layer is fetched, nothing is stored; `Metadata.LastTagTime` is
   * Go's zero time (never tagged here) and manifests' unpacked sizes are 0 (unknown).
   */
  async inspectRemote(ref: string, options: InspectOptions & RemoteInspectOptions): Promise<ImageInspect> {
    const { record, facts } = await remoteInspectFacts(this.registry, ref, options);
    return inspectDocument(ref, facts, [record], GO_ZERO_TIME, options);
  }

  private readonly layerSizes = {
    unpackedSize: async (digest: string): Promise<number | undefined> => (await this.metadata.getLayerFacts(digest))?.unpackedSize,
  };

  /** `GET /images/{name}/attestations` (API 1.55): the in-toto statements of one platform (image-attestations.ts). */
  attestations(refOrId: string, options: AttestationOptions): Promise<AttestationStatement[]> {
    const sources = { metadata: this.metadata, reader: this.reader, content: this.content };
    return this.gc.reading(() => imageAttestations(sources, refOrId, options));
  }

  /** `docker history`: the history of the image (of `platform`, else the best for the host), newest first. */
  history(refOrId: string, options: { platform?: Platform } = {}): Promise<HistoryItem[]> {
    const sources = { metadata: this.metadata, reader: this.reader, layers: this.layerSizes };
    return this.gc.reading(() => imageHistory(sources, refOrId, options.platform));
  }

  /**
   * `docker save`: the archive of `names`, to be streamed. Unknown names and missing content throw
   * here, before any byte; each image put in emits a `save` event. Planned in a read section; the
   * blobs stay leased while the archive streams.
   */
  save(names: string[], options: { platform?: Platform; platforms?: Platform[] } = {}): Promise<Readable> {
    const onSave = async (target: Descriptor): Promise<void> => {
      this.events.emit('image', 'save', target.digest, await imageEventAttributes(this, target.digest, target.digest));
    };
    const sources = { metadata: this.metadata, reader: this.reader, content: this.content, leases: this.leases, onSave };
    return this.gc.reading(() => exportImages(sources, names, options.platforms ?? (options.platform ? [options.platform] : [])));
  }

  /** `docker load`: imports an archive, then names its images, all or nothing. */
  load(body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream, options: LoadOptions = {}): Promise<LoadedImage[]> {
    return this.ops.run('load', {}, async (note) => {
      const loaded = await this.loadNow(body, options, note);
      note({ images: loaded.map((l) => l.name) });
      return loaded;
    });
  }

  private async loadNow(body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream, options: LoadOptions, note: Note): Promise<LoadedImage[]> {
    // Every blob the import writes or relies on stays leased until its image has a name.
    const held: string[] = [];
    let garbage: string[] = [];
    const requested = options.platforms
      ? { platforms: options.platforms, docker29: true }
      : { platforms: options.platform ? [options.platform] : [], docker29: false };
    try {
      const result = await importArchive(body, this.gc.leasingStore(held), {
        limits: this.limits,
        mustBeWhole: mustBeWhole(requested.platforms.length > 0),
        ...(options.progress ? { progress: options.progress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      note({ digests: result.images.map((i) => i.target.digest), bytes: result.blobs.reduce((sum, b) => sum + b.size, 0) });
      return await this.gc.reading(async () => {
        if (requested.platforms.length > 0) await checkProvidesPlatform(this.reader, this.layerSizes, result.images, requested);
        const now = nowRfc3339Nano();
        const loaded: LoadedImage[] = [];
        const graph = await this.gc.graphOf(result.images.map((i) => i.target));
        const listed = await this.gc.graphUnderListed(held.filter((d) => !graph.reached.has(d)));
        await this.gc.hold(result.images.map((i) => i.target));
        await this.metadata.transaction(async (tx) => {
          for (const layer of result.layers) await tx.putLayerFacts(layer);
          await tx.putBlobEdges(graph.edges);
          await tx.putBlobEdges(listed);
          for (const image of result.images) {
            if (image.name) {
              await nameImage(tx, image.name, image.target, now, 'update');
              loaded.push({ name: familiarString(tagNameOnly(parseNormalizedNamed(image.name))), tagged: true });
            } else {
              await nameImage(tx, danglingName(image.target.digest), image.target, now, 'update');
              loaded.push({ name: image.target.digest, tagged: false });
            }
          }
        });
        // Docker's LogImageEvent: ID and name are the target digest, with the image's labels.
        for (const image of result.images) {
          const digest = image.target.digest;
          this.events.emit('image', 'load', digest, await imageEventAttributes(this, digest, digest));
        }
        // Files of the archive that no image uses (a legacy archive's per-layer json, VERSION).
        garbage = held.filter((d) => !graph.reached.has(d));
        return loaded;
      });
    } catch (err) {
      garbage = held;
      throw err;
    } finally {
      this.leases.release(held);
      await this.gc.collect(garbage).catch(() => undefined);
    }
  }

  /**
   * `docker import`: the body (a tar, plain, gzip or zstd) made a one-layer image named `ref`
   * (dangling without), as Docker 28's ImportImage; returns the image ID.
   */
  importImage(body: AsyncIterable<Uint8Array>, options: ImportOptions): Promise<string> {
    const name = options.ref ? referenceString(options.ref) : undefined;
    return this.ops.run('import', { ref: options.ref ? familiarString(options.ref) : undefined }, async (note) => {
      const held: string[] = [];
      let imported: Descriptor | undefined;
      try {
        const result = await writeImportedImage(this.gc.leasingStore(held), body, {
          platform: options.platform ?? hostPlatform(),
          message: options.message,
          changes: options.changes,
          limits: this.limits,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const target = result.target;
        await this.gc.reading(async () => {
          const graph = await this.gc.graphOf([target]);
          await this.gc.hold([target]);
          await this.metadata.transaction(async (tx) => {
            await tx.putLayerFacts(result.layer);
            await tx.putBlobEdges(graph.edges);
            await nameImage(tx, name ?? danglingName(target.digest), target, nowRfc3339Nano(), 'update');
          });
          imported = target;
          // Docker's LogImageEvent(id, id, "import").
          this.events.emit('image', 'import', target.digest, await imageEventAttributes(this, target.digest, target.digest));
        });
        note({ digest: target.digest, bytes: result.layer.unpackedSize });
        return target.digest;
      } finally {
        this.leases.release(held);
        if (!imported) await this.gc.collect(held).catch(() => undefined);
      }
    });
  }

  /**
   * Deletes the `candidates` no image reaches and no operation in flight holds. Reachability is
   * walked from every image record, so shared blobs stay.
   */
  collectGarbage(candidates: Iterable<string>, options?: CollectOptions): Promise<string[]> {
    return this.gc.collect(candidates, options);
  }

  /** `docker pull`: fetches `ref` (every tag when it has neither tag nor digest) and names it (image-pull.ts). */
  async pull(ref: Reference, options: PullImageOptions): Promise<void> {
    const { content, metadata, events, registry, gc } = this;
    const sources = {
      content,
      metadata,
      events,
      registry,
      limits: this.limits,
      leasingStore: (held: string[]) => gc.leasingStore(held),
      release: async (held: string[]) => {
        this.leases.release(held);
        await gc.collect(held).catch(() => undefined);
      },
      reading: <T>(fn: () => Promise<T>) => gc.reading(fn),
      graphOf: (targets: Descriptor[]) => gc.graphOf(targets),
      hold: (targets: Descriptor[]) => gc.hold(targets),
      eventAttributes: (imageId: string, refName: string) => imageEventAttributes(this, imageId, refName),
    };
    await this.ops.run('pull', { ref: familiarString(ref) }, async (note) => {
      const pulled = await pullImage(sources, ref, options);
      note(transferFields(pulled));
    });
  }

  /** `docker push`: sends `ref` (every tag of the repository when it has neither tag nor digest) to its registry (image-push.ts). */
  async push(ref: Reference, options: PushImageOptions): Promise<void> {
    const { content, reader, metadata, events, registry, gc, leases } = this;
    const sources = {
      content,
      reader,
      metadata,
      events,
      registry,
      // Taken in a read section, so no sweep runs between finding the blobs and holding them.
      hold: (target: Descriptor) =>
        gc.reading(async () => {
          const held = [...(await gc.reachableFrom([target]))];
          for (const digest of held) leases.hold(digest);
          const release = (): void => {
            leases.release(held);
            // What an image removed meanwhile left behind goes now.
            void gc.collect(held).catch(() => undefined);
          };
          return { blobs: held, release };
        }),
      eventAttributes: (imageId: string, refName: string) => imageEventAttributes(this, imageId, refName),
    };
    await this.ops.run('push', { ref: familiarString(ref) }, async (note) => {
      const pushed = await pushImage(sources, ref, options);
      note(transferFields(pushed));
    });
  }

  /** `docker tag`: `source` gets the name `newTag` (image-tag.ts). */
  tag(source: string, newTag: Reference): Promise<void> {
    const name = familiarString(newTag);
    return this.ops.run('tag', { source, tag: name }, async (note) => {
      await tagImage(this, source, newTag);
      note({ digest: (await this.metadata.getImage(referenceString(newTag)))?.target.digest });
    });
  }

  /** `docker rmi`: untags or deletes what `refOrId` names (image-remove.ts). */
  remove(refOrId: string, options: RemoveOptions): Promise<DeleteResponse[]> {
    return this.ops.run('remove', { ref: refOrId, force: options.force || undefined }, async (note) => {
      const report = await removeImage(this, refOrId, options);
      note(deleteFields(report));
      return report;
    });
  }

  /** What `docker image prune` with `filters` would remove now, removing nothing (image-prune.ts). */
  prunePlan(filters: FilterArgs): Promise<PruneReport> {
    return pruneImages(this, filters, new Date(), { dryRun: true });
  }

  /** `docker image prune` (image-prune.ts). */
  prune(filters: FilterArgs): Promise<PruneReport> {
    return this.ops.run('prune', {}, async (note) => {
      const report = await pruneImages(this, filters);
      note({ ...deleteFields(report.ImagesDeleted ?? []), bytes: report.SpaceReclaimed });
      return report;
    });
  }
}

/** The log fields of pulled or pushed tags: their names, digests and bytes. */
function transferFields(tags: Array<{ name: string; digest: string; bytes: number }>): LogFields {
  return { names: tags.map((t) => t.name), digests: tags.map((t) => t.digest), bytes: tags.reduce((sum, t) => sum + t.bytes, 0) };
}

/** The log fields of an rmi or prune report: what was untagged, what deleted. */
function deleteFields(report: DeleteResponse[]): LogFields {
  return {
    untagged: report.flatMap((r) => ('Untagged' in r ? [r.Untagged] : [])),
    deleted: report.flatMap((r) => ('Deleted' in r ? [r.Deleted] : [])),
  };
}

function latest(times: string[]): string {
  let best = '1970-01-01T00:00:00Z';
  for (const t of times) if (Date.parse(t) > Date.parse(best) || (Date.parse(t) === Date.parse(best) && t > best)) best = t;
  return best;
}

/** The inspect document of an image walked into `facts`, named by `records`. */
function inspectDocument(
  refOrId: string,
  facts: InspectFacts,
  records: ImageRecord[],
  lastTagTime: string,
  options: InspectOptions,
): ImageInspect {
  if (options.platform && !facts.best) throw platformNotFound(refOrId, options.platform);
  const descriptor = options.platform && facts.best ? facts.best.descriptor : facts.descriptor;
  return {
    id: descriptor.digest,
    ...repoTagsAndDigests(records),
    parent: '',
    size: facts.size,
    graphDriver: SNAPSHOTTER,
    lastTagTime,
    descriptor,
    ...(options.manifests ? { manifests: facts.manifests } : {}),
    ...configFields(facts.best?.config),
  };
}
