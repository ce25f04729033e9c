/**
 * `docker push` of one target (an index or a manifest, exactly as stored), as containerd v2.1.4's
 * remotes.PushContent does it for Docker 28.5: the blobs (configs and layers) first, in parallel
 * (at most --max-concurrent-uploads at once, daemon-wide), then the manifests, then the indexes,
 * children before parents, each manifest byte for byte so every digest stays what it was. A blob
 * another repository of the same registry has is mounted from there (containerd's distribution
 * source labels, kept here as blob sources). Indexes and manifests must be here; a config or layer
 * that is not is fine only when the registry has it or can mount it.
 */
import { openTransferSession } from './transfer-session.js';
import type { ContentStore } from '../content/content-store.js';
import { LadingError, NotFoundError } from '../errors.js';
import type { BlobSource } from '../metadata/metadata-store.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { walkImageGraph } from '../oci/image-graph-walk.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.js';
import type { Reference } from '../reference/reference.js';
import type { AuthConfig } from '../registry/auth-config.js';
import { pushBlob, pushManifest } from '../registry/blob-push.js';
import type { PushProgress } from './push-progress.js';
import type { RegistryService } from '../registry/registry-service.js';

export interface PushTargetOptions {
  auth?: AuthConfig;
  progress: PushProgress;
  signal?: AbortSignal;
  /** Where a blob is known to be (any registry). */
  sources: (digest: string) => BlobSource[];
  onExchange?: (method: string, url: URL, status: number) => void;
}

export interface PushedTarget {
  /** Every blob of the target the repository now has. */
  blobs: string[];
}

interface Plan {
  /** Configs and layers, each once, with the digests of the documents that list them. */
  blobs: Map<string, { desc: Descriptor; parents: string[] }>;
  /** Manifests, in the order met. */
  manifests: Descriptor[];
  /** Indexes, in the order met (pushed in reverse: parents after children). */
  indexes: Descriptor[];
  documents: Map<string, Buffer>;
}

export async function pushTarget(
  content: ContentStore,
  registry: RegistryService,
  ref: Reference,
  target: Descriptor,
  options: PushTargetOptions,
): Promise<PushedTarget> {
  const { group, repo } = await openTransferSession(registry, ref, { ...options, push: true });
  const plan = await planPush(content, target);
  for (const { desc } of plan.blobs.values()) options.progress.add(desc);
  await group.all(
    [...plan.blobs.values()].map(async ({ desc, parents }) => {
      const release = await registry.uploads.acquire(group.signal);
      try {
        const outcome = await pushBlob(repo, desc, {
          present: await content.has(desc.digest),
          open: () => content.createReadStream(desc.digest),
          onProgress: (state) => options.progress.set(desc.digest, state),
          signal: group.signal,
          ...mountCandidate(ref, [desc.digest, ...parents], options.sources),
        });
        options.progress.set(desc.digest, outcome);
      } finally {
        release();
      }
    }),
  );

  // The image's own target goes at its tag; everything else by digest.
  const object = (desc: Descriptor): string => (desc.digest === target.digest && ref.tag && !ref.digest ? ref.tag : desc.digest);
  const putDocument = async (desc: Descriptor): Promise<void> => {
    const release = await registry.uploads.acquire(group.signal);
    try {
      await pushManifest(repo, desc, plan.documents.get(desc.digest) ?? Buffer.alloc(0), object(desc));
    } finally {
      release();
    }
  };
  await group.all(plan.manifests.map(putDocument));
  for (const index of [...plan.indexes].reverse()) {
    try {
      await putDocument(index);
    } catch (err) {
      // containerd's sign that the registry misses what the index lists.
      if (err instanceof LadingError && / 400 /.test(err.message.split('\n')[0] ?? '')) {
        throw new LadingError(err.kind, `manifest list/index references to blobs and/or manifests are missing in your target registry: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  return { blobs: [...plan.indexes, ...plan.manifests].map((d) => d.digest).concat([...plan.blobs.keys()]) };
}

/** Walks the target: every index and manifest must be here (containerd reads them to find their children). */
async function planPush(content: ContentStore, target: Descriptor): Promise<Plan> {
  const plan: Plan = { blobs: new Map(), manifests: [], indexes: [], documents: new Map() };
  const read = async (desc: Descriptor): Promise<unknown> => {
    if (!(await content.has(desc.digest))) throw new NotFoundError(`content digest ${desc.digest}: not found`);
    const data = await content.readBytes(desc.digest);
    plan.documents.set(desc.digest, data);
    try {
      return JSON.parse(data.toString('utf8')) as unknown;
    } catch (err) {
      throw new LadingError('invalid-argument', `content ${desc.digest} is not valid JSON: ${(err as Error).message}`);
    }
  };
  // The documents on the path by which each document was first met, for mount candidates.
  const chains = new Map<string, string[]>();
  const documents = async (desc: Descriptor, _depth: number, parent: Descriptor | undefined): Promise<Descriptor[] | undefined> => {
    const parents = parent ? [...(chains.get(parent.digest) ?? []), parent.digest] : [];
    if (isIndexType(desc.mediaType)) {
      const index = (await read(desc)) as Partial<ImageIndex>;
      plan.indexes.push(desc);
      chains.set(desc.digest, parents);
      return Array.isArray(index.manifests) ? index.manifests : [];
    }
    if (isManifestType(desc.mediaType)) {
      const manifest = (await read(desc)) as Partial<ImageManifest>;
      plan.manifests.push(desc);
      chains.set(desc.digest, parents);
      return [...(manifest.config ? [manifest.config] : []), ...(Array.isArray(manifest.layers) ? manifest.layers : [])];
    }
    plan.blobs.set(desc.digest, { desc, parents });
    return undefined;
  };
  await walkImageGraph(target, documents, {
    tooDeep: () => new LadingError('invalid-argument', `image ${target.digest} nests indexes too deeply`),
  });
  return plan;
}

/**
 * containerd's selectRepositoryMountCandidate: of the repositories of the target registry known to
 * have the blob (or, failing that, the documents that list it), the one sharing the most leading
 * path components with the target; never the target itself.
 */
export function mountCandidate(ref: Reference, digests: string[], sources: (digest: string) => BlobSource[]): { mountFrom?: string } {
  const target = ref.path.split('/');
  for (const digest of digests) {
    let best: string | undefined;
    let bestLength = 0;
    for (const source of sources(digest)) {
      if (source.registry !== ref.domain || source.repository === ref.path) continue;
      const parts = source.repository.split('/');
      let n = 0;
      while (n < parts.length && n < target.length && parts[n] === target[n]) n++;
      if (n >= bestLength) {
        best = source.repository;
        bestLength = n;
      }
    }
    if (best) return { mountFrom: best };
  }
  return {};
}
