/**
 * `docker pull`: Docker 28.5's ImageService.PullImage and pullTag (daemon/containerd/image_pull.go).
 * The registry side (resolve, fetch, verify) is src/distribution/puller.ts; here the image is
 * named, the image it replaces kept dangling, the pull event logged, and the closing lines written.
 */
import type { ContentStore } from '../content/content-store.js';
import { LadingError, NotFoundError } from '../errors.js';
import { formatPlatformAll, hostPlatform, normalizePlatform } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
import {
  familiarName,
  familiarString,
  referenceString,
  withTag,
  type Reference,
} from '../reference/reference.js';
import type { ImportLimits } from '../layers/compression.js';
import type { AuthConfig } from '../registry/auth-config.js';
import { listTags } from '../registry/manifest-fetch.js';
import { statusMessage, type ProgressSink } from '../util/progress-message.js';
import { pullFromRegistry } from '../distribution/puller.js';
import { RegistryError, translateRegistryError, wrapRegistryError } from '../registry/registry-errors.js';
import type { RegistryService } from '../registry/registry-service.js';
import { nowRfc3339Nano } from '../util/go-time.js';
import type { EventBus } from '../events/event-bus.js';
import type { BlobEdge, MetadataStore } from '../metadata/metadata-store.js';
import { nameImage } from './image-naming.js';

export interface PullImageOptions {
  platform?: Platform;
  auth?: AuthConfig;
  /** Receives Docker's progress messages, in order. */
  progress: ProgressSink;
  signal?: AbortSignal;
  /** Told of every request made to a registry. */
  onExchange?: (method: string, url: URL, status: number) => void;
  /** Fetch the platform's attestation manifest too (Docker 29, API 1.52+). */
  attestations?: boolean;
}

/** What a pull works with; the image service provides it (garbage collection, leases, events). */
export interface ImagePullSources {
  /** The raw store (the key of the daemon's shared blob fetches). */
  content: ContentStore;
  metadata: MetadataStore;
  events: EventBus;
  registry: RegistryService;
  /** The daemon's decompression limits, for the pulled layers. */
  limits: ImportLimits;
  /** The store as a pull writes to it: every blob committed or found present is leased into `held`. */
  leasingStore(held: string[]): ContentStore;
  /** Drops the leases of `held`, then deletes what of it no image reaches. */
  release(held: string[]): Promise<void>;
  /** Runs `fn` while no sweep can delete a blob. */
  reading<T>(fn: () => Promise<T>): Promise<T>;
  /** The blob graph under `targets`, written with the records that name them (garbage-collector.ts). */
  graphOf(targets: Descriptor[]): Promise<{ edges: BlobEdge[]; reached: Set<string> }>;
  /** Keeps the targets' blobs in a store that would reclaim them (garbage-collector.ts's hold), before they are named. */
  hold(targets: Descriptor[]): Promise<void>;
  /** Docker's LogImageEvent attributes: the labels of the image `imageId` names, then `name`. */
  eventAttributes(imageId: string, refName: string): Promise<Record<string, string>>;
}

/** What one pulled tag became, for the operator's log. */
export interface PulledTag {
  name: string;
  digest: string;
  /** Bytes this pull wrote into the store (blobs already here are not fetched). */
  bytes: number;
}

/**
 * Pulls `ref`; a reference with neither tag nor digest pulls every tag of the repository (`docker
 * pull --all-tags`), one after another.
 */
export async function pullImage(src: ImagePullSources, ref: Reference, options: PullImageOptions): Promise<PulledTag[]> {
  if (ref.tag || ref.digest) return [await pullTag(src, ref, options)];
  const repo = await src.registry.repository(ref.domain, ref.path, {
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let tags: string[];
  try {
    tags = await listTags(repo);
  } catch (err) {
    throw translateRegistryError(err);
  }
  const pulled: PulledTag[] = [];
  for (const tag of tags) {
    let tagged: Reference;
    try {
      tagged = withTag(ref, tag);
    } catch {
      continue; // Docker: "invalid tag, won't pull"
    }
    try {
      pulled.push(await pullTag(src, tagged, options));
    } catch (err) {
      throw wrapRegistryError(`error pulling ${referenceString(tagged)}`, err);
    }
  }
  return pulled;
}

async function pullTag(src: ImagePullSources, ref: Reference, options: PullImageOptions): Promise<PulledTag> {
  const name = referenceString(ref);
  const held: string[] = [];
  const leasing = src.leasingStore(held);
  try {
    const old = await src.metadata.getImage(name);
    let pulled;
    try {
      pulled = await pullFromRegistry(leasing, src.registry, ref, {
        ...(options.platform ? { platform: options.platform } : {}),
        ...(options.auth ? { auth: options.auth } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onExchange ? { onExchange: options.onExchange } : {}),
        ...(options.attestations ? { attestations: true } : {}),
        progress: options.progress,
        blobs: src.registry.blobFetcher(src.content),
        limits: src.limits,
        knownLayer: (digest) => src.metadata.getLayerFacts(digest),
      });
    } catch (err) {
      throw pullFailure(err, ref, options.platform);
    }
    const target = pulled.target;
    await src.reading(async () => {
      const now = nowRfc3339Nano();
      const graph = await src.graphOf([target]);
      await src.hold([target]);
      await src.metadata.transaction(async (tx) => {
        for (const layer of pulled.layers) await tx.putLayerFacts(layer);
        await tx.putBlobEdges(graph.edges);
        // containerd's createNewImage: create, or update the target and the update time.
        await nameImage(tx, name, target, now, 'update');
        // Hints for later mounts, named with the image.
        await tx.addBlobSources(pulled.blobs.map((digest) => ({ digest, registry: ref.domain, repository: ref.path })));
      });
      src.events.emit('image', 'pull', familiarString(ref), await src.eventAttributes(name, familiarName(ref)));
    });
    options.progress(statusMessage('', `Digest: ${target.digest}`));
    const newer = old?.target.digest !== target.digest;
    options.progress(statusMessage('', `Status: ${newer ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarString(ref)}`));
    const written = await Promise.all(pulled.written.map((digest) => src.content.info(digest)));
    return { name: familiarString(ref), digest: target.digest, bytes: written.reduce((sum, info) => sum + (info?.size ?? 0), 0) };
  } finally {
    // What no image reaches now (all of it, after a failure) goes.
    await src.release(held);
  }
}

/**
 * The error a pull of `ref` reports for a failure on the registry side, in Docker 28's words (also
 * what a remote inspect reports, remote-inspect.ts).
 */
export function pullFailure(err: unknown, ref: Reference, platform: Platform | undefined): unknown {
  // Docker names the platform in containerd's terse "no match for platform in manifest".
  if (err instanceof LadingError && err.kind === 'not-found' && err.message.includes('platform')) {
    const wanted = formatPlatformAll(platform ? normalizePlatform(platform) : hostPlatform());
    return new NotFoundError(`no matching manifest for ${wanted} in the manifest list entries: ${err.message}`, { cause: err });
  }
  // containerd's ErrInvalidAuthorization: Docker's advice to log in, except for missing basic credentials.
  if (err instanceof RegistryError && err.facts.invalidAuthorization && !err.message.includes('no basic auth credentials')) {
    return new NotFoundError(`pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login'`, { cause: err });
  }
  return translateRegistryError(err);
}
