/**
 * `docker push`: Docker 28.5's ImageService.PushImage and pushRef (daemon/containerd/image_push.go).
 * The registry side is src/distribution/pusher.ts; here the image is found, what of it to send
 * is decided (the whole target, one platform's manifest, or the manifest that is here when an index
 * is not all here), the blobs are held against garbage collection, the repository is recorded as
 * a source of what was pushed (for later cross-repository mounts), the push event is logged and the
 * closing lines written. The first line goes out before anything is checked, as in Docker, so every
 * error after it travels in the stream.
 */
import type { ContentStore } from '../content/content-store.js';
import { LadingError, NotFoundError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { BlobSource, BlobSources, MetadataStore } from '../metadata/metadata-store.js';
import { descriptorJson } from '../oci/descriptor-json.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { familiarName, familiarString, parseNamed, referenceString, repositoryName, type Reference } from '../reference/reference.js';
import type { AuthConfig } from '../registry/auth-config.js';
import { statusMessage, type JsonMessage, type ProgressSink } from '../util/progress-message.js';
import { PushProgress } from '../distribution/push-progress.js';
import { pushTarget } from '../distribution/pusher.js';
import { translateRegistryError } from '../registry/registry-errors.js';
import type { RegistryService } from '../registry/registry-service.js';
import type { ContentReader } from '../content/content-reader.js';
import { isIndex } from '../content/content-reader.js';
import { getPushDescriptor } from './push-descriptor.js';

export interface PushImageOptions {
  platform?: Platform;
  auth?: AuthConfig;
  /** Receives Docker's progress messages (and aux messages), in order. */
  progress: ProgressSink;
  signal?: AbortSignal;
  onExchange?: (method: string, url: URL, status: number) => void;
}

/** What a push works with; the image service provides it. */
export interface ImagePushSources {
  content: ContentStore;
  reader: ContentReader;
  metadata: MetadataStore;
  events: EventBus;
  registry: RegistryService;
  /** Holds every blob `target` reaches against garbage collection until `release` is called. */
  hold(target: Descriptor): Promise<{ blobs: readonly string[]; release: () => void }>;
  eventAttributes(imageId: string, refName: string): Promise<Record<string, string>>;
}

/** `tag`: the tags of `name:` in the store (Docker's getAllImagesWithRepository). */
const TAG = /^[\w][\w.-]{0,127}$/;

/** What one push sent, for the operator's log. */
export interface PushedRef {
  name: string;
  digest: string;
  /** Bytes of every blob the repository now has of the image (sent, mounted or there already). */
  bytes: number;
}

/**
 * Pushes `ref`; a reference with neither tag nor digest pushes every tag of the repository that is
 * here (`docker push --all-tags`), one after another.
 */
export async function pushImage(src: ImagePushSources, ref: Reference, options: PushImageOptions): Promise<PushedRef[]> {
  options.progress(statusMessage('', `The push refers to repository [${repositoryName(ref)}]`));
  if (ref.tag || ref.digest) return [await pushRef(src, ref, options)];
  const prefix = `${repositoryName(ref)}:`;
  const records = (await src.metadata.listImages()).filter((r) => r.name.startsWith(prefix) && TAG.test(r.name.slice(prefix.length)));
  if (records.length === 0) throw new LadingError('internal', `An image does not exist locally with the tag: ${familiarName(ref)}`);
  const pushed: PushedRef[] = [];
  for (const record of records) {
    let named: Reference;
    try {
      named = parseNamed(record.name);
    } catch {
      continue; // Docker logs "refusing to push an invalid tag" and goes on.
    }
    pushed.push(await pushRef(src, named, options));
  }
  return pushed;
}

async function pushRef(src: ImagePushSources, ref: Reference, options: PushImageOptions): Promise<PushedRef> {
  const record = await src.metadata.getImage(referenceString(ref));
  if (!record) throw new NotFoundError(`tag does not exist: ${familiarString(ref)}`);
  let target = record.target;
  if (options.platform) target = await getPushDescriptor(src.reader, record, options.platform);

  const progress = new PushProgress(options.progress);
  const { blobs, release } = await src.hold(record.target);
  progress.start();
  let pushed: string[] = [];
  try {
    const known = await knownSources(src.metadata, blobs);
    let error: unknown;
    try {
      pushed = await push(src, ref, target, progress, options, known);
    } catch (err) {
      error = err;
    }
    if (error !== undefined && isNotFound(error) && isIndex(target) && !options.platform) {
      // An index whose content is not all here: the one manifest that is, if Docker would pick one.
      const selected = await getPushDescriptor(src.reader, record);
      if (selected.digest !== target.digest) {
        const original = target;
        target = selected;
        progress.notStartedUnavailable = true;
        try {
          pushed = await push(src, ref, target, progress, options, known);
          error = undefined;
          options.progress(aux({
            manifestPushedInsteadOfIndex: true,
            originalIndex: descriptorJson(original),
            selectedManifest: descriptorJson(selected),
          }));
        } catch (err) {
          error = err;
        }
      }
    }
    if (error !== undefined) {
      if (!isNotFound(error)) throw translateRegistryError(error);
      // The note the CLI turns into its advice to push one platform.
      options.progress(aux({ contentMissing: true, desc: descriptorJson(target) }));
      throw error instanceof NotFoundError ? error : new NotFoundError((error as Error).message, { cause: error });
    }
  } finally {
    progress.stop();
    release();
  }

  // containerd's appendDistributionSourceLabel: this repository now has all of it.
  const sources: BlobSource[] = [];
  let bytes = 0;
  for (const digest of pushed) {
    const info = await src.content.info(digest);
    if (!info) continue;
    bytes += info.size;
    sources.push({ digest, registry: ref.domain, repository: ref.path });
  }
  await src.metadata.addBlobSources(sources);
  src.events.emit('image', 'push', familiarString(ref), await src.eventAttributes(referenceString(ref), familiarName(ref)));

  if (ref.tag) {
    options.progress(statusMessage('', `${ref.tag}: digest: ${target.digest} size: ${target.size}`));
    // The PushResult Docker's graph-driver store (and plugin push) sends; its containerd store does not.
    options.progress(aux({ Tag: ref.tag, Digest: target.digest, Size: target.size }));
  }
  return { name: familiarString(ref), digest: target.digest, bytes };
}

/**
 * The sources of every blob the push may send or mount (those `hold` found), read before it starts:
 * the pusher asks for them synchronously, blob by blob, and the role is asynchronous.
 */
async function knownSources(metadata: BlobSources, blobs: readonly string[]): Promise<ReadonlyMap<string, BlobSource[]>> {
  const known = new Map<string, BlobSource[]>();
  for (const digest of blobs) {
    const sources = await metadata.blobSources(digest);
    if (sources.length > 0) known.set(digest, sources);
  }
  return known;
}

async function push(
  src: ImagePushSources,
  ref: Reference,
  target: Descriptor,
  progress: PushProgress,
  options: PushImageOptions,
  known: ReadonlyMap<string, BlobSource[]>,
): Promise<string[]> {
  const result = await pushTarget(src.content, src.registry, ref, target, {
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onExchange ? { onExchange: options.onExchange } : {}),
    progress,
    sources: (digest) => known.get(digest) ?? [],
  });
  return result.blobs;
}

function isNotFound(err: unknown): boolean {
  return err instanceof LadingError && err.kind === 'not-found';
}

function aux(value: object): JsonMessage {
  return { aux: value };
}
