/**
 * Lading's remote inspect (`GET /images/{name}/json?remote=1`): the facts of an image's inspect
 * document from what its registry serves, read as a pull would take it (remote-image.ts: the
 * index, the chosen platform's manifest and config; never a layer) and walked by the very code
 * that walks a local image (inspect.ts). Nothing is stored.
 *
 * The walk sees what the store would hold right after a pull of that platform: the documents that
 * were read, and the chosen manifest's layers as if they were here. So the chosen manifest is
 * `Available` and counts its layers in `Size.Content`, the others are not available, and `Size` is
 * Docker 28's, all as after a pull; only the layers' unpacked sizes stay unknown (0).
 */
import { InvalidArgumentError, LadingError } from '../errors.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import { hostPreferenceMatcher, strictMatcher } from '../oci/platform.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import { parseAnyReference, referenceString, tagNameOnly, type Reference } from '../reference/reference.js';
import type { AuthConfig } from '../registry/auth-config.js';
import { RegistryError } from '../registry/registry-errors.js';
import { fetchRemoteImage, type RemoteImage } from '../registry/remote-image.js';
import type { RegistryService } from '../registry/registry-service.js';
import { GO_ZERO_TIME } from '../util/go-time.js';
import { pullFailure } from './image-pull.js';
import { collectInspectFacts, type InspectFacts, type InspectSource } from './inspect.js';

export interface RemoteInspectOptions {
  platform?: Platform;
  auth?: AuthConfig;
  signal?: AbortSignal;
  onExchange?: (method: string, url: URL, status: number) => void;
}

export interface RemoteInspectFacts {
  /** The image record a pull of the reference would write (its name gives RepoTags and RepoDigests). */
  record: ImageRecord;
  facts: InspectFacts;
}

/** The reference a remote inspect reads: a name (`latest` when it has neither tag nor digest). */
export function remoteReference(name: string): Reference {
  const parsed = parseAnyReference(name);
  // An ID names nothing at a registry (Docker's distribution inspect says the same, as a 500).
  if ('digestOnly' in parsed) throw new InvalidArgumentError('no manifest found for full image ID');
  return tagNameOnly(parsed);
}

export async function remoteInspectFacts(
  registry: RegistryService,
  name: string,
  options: RemoteInspectOptions,
): Promise<RemoteInspectFacts> {
  const ref = remoteReference(name);
  let image: RemoteImage;
  try {
    image = await fetchRemoteImage(registry, ref, options);
  } catch (err) {
    const failure = pullFailure(err, ref, options.platform);
    // Credentials missing or refused: a pull's text, with 401 or 403 where a pull says 500.
    const kind = authFailureKind(err);
    if (kind && failure instanceof LadingError && failure.kind === 'internal') {
      throw new LadingError(kind, failure.message, { cause: failure });
    }
    throw failure;
  }
  const matcher = options.platform ? strictMatcher(options.platform) : hostPreferenceMatcher();
  const facts = await collectInspectFacts(new AsPulled(image), { unpackedSize: async () => undefined }, image.target, matcher);
  const record = { name: referenceString(ref), target: image.target, createdAt: GO_ZERO_TIME, updatedAt: GO_ZERO_TIME };
  return { record, facts };
}

function authFailureKind(err: unknown): 'unauthorized' | 'forbidden' | undefined {
  if (!(err instanceof RegistryError)) return undefined;
  if (err.facts.invalidAuthorization || err.facts.status === 401) return 'unauthorized';
  if (err.facts.status === 403) return 'forbidden';
  return undefined;
}

/** The store as a pull of `image` would leave it, for the inspect walk; layers are "here" unread. */
export class AsPulled implements InspectSource {
  private readonly layers: Set<string>;

  constructor(private readonly image: RemoteImage) {
    this.layers = new Set(image.layers.map((l) => l.digest));
  }

  async has(digest: string): Promise<boolean> {
    return this.image.documents.has(digest) || this.layers.has(digest);
  }

  async readIndex(desc: Descriptor): Promise<ImageIndex | undefined> {
    return this.image.documents.get(desc.digest) as ImageIndex | undefined;
  }

  async readManifest(desc: Descriptor): Promise<ImageManifest | undefined> {
    return this.image.documents.get(desc.digest) as ImageManifest | undefined;
  }

  async readConfig(desc: Descriptor): Promise<ImageConfig | undefined> {
    return this.image.documents.get(desc.digest) as ImageConfig | undefined;
  }
}
