/**
 * `docker save`: which images go into the archive, under which names, as Docker 28.5's containerd
 * image service decides (daemon/containerd/image_exporter.go, ExportImage); the archive itself is
 * containerd's exporter's (archive/export-archive.ts).
 */
import { Readable } from 'node:stream';
import type { ContentStore } from '../content/content-store.js';
import { LadingError, NotFoundError, withContext } from '../errors.js';
import type { ImageRecord, MetadataStore } from '../metadata/metadata-store.js';
import { hexOf } from '../oci/digest.js';
import { anyOfMatcher, hostPreferenceMatcher, strictMatcher } from '../oci/platform.js';
import type { Descriptor, Platform } from '../oci/types.js';
import {
  familiarString,
  parseNamed,
  parseNormalizedNamed,
  referenceString,
  repositoryName,
  tagNameOnly,
  type Reference,
} from '../reference/reference.js';
import { prepareExport, withImageName } from '../archive/export-archive.js';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from '../archive/image-name.js';
import type { ContentReader } from '../content/content-reader.js';
import type { Leases } from '../gc/leases.js';
import { getPushDescriptor } from './push-descriptor.js';
import { resolveImage } from './resolve.js';

export interface ExportSources {
  metadata: MetadataStore;
  reader: ContentReader;
  content: ContentStore;
  leases: Leases;
  /** Told of each image as it is put in the archive, with the digest it goes in as. */
  onSave(target: Descriptor): void | Promise<void>;
}

const TAG = '[\\w][\\w.-]{0,127}';

/**
 * The archive of `names` as a byte stream. Names resolve as Docker resolves them: an ID or a
 * digest reference exports that image without a name; `repo:tag` exports it under that name; a bare
 * `repo` exports every tag of the repository. Errors (no such image, missing content) are thrown
 * before the stream exists; the blobs it carries are leased until it closes.
 */
export async function exportImages(src: ExportSources, names: string[], platforms: readonly Platform[] = []): Promise<Readable> {
  const manifests: Descriptor[] = [];
  // One platform: that platform's manifest is the target. Several (API 1.52+, Docker 29.7): the
  // whole index, of which only those platforms' manifests go in.
  const platform = platforms.length === 1 ? platforms[0] : undefined;

  const exportImage = async (record: ImageRecord, ref: Reference | undefined): Promise<void> => {
    let target = record.target;
    if (platform) {
      try {
        target = await getPushDescriptor(src.reader, record, platform);
      } catch (err) {
        throw withContext(err, 'no suitable export target found');
      }
    }
    manifests.push(ref ? withImageName(target, referenceString(ref)) : withoutImageName(target));
    await src.onSave(target);
  };

  for (const name of names) {
    let record: ImageRecord | undefined;
    let resolveError: unknown;
    try {
      record = await resolveImage(src.metadata, name);
    } catch (err) {
      resolveError = err;
    }
    // A name that is a prefix of the resolved image's digest means that image, not a repository.
    let specificDigest = record !== undefined && hexOf(record.target.digest).startsWith(name.replace(/^sha256:/, ''));

    let ref: Reference | undefined;
    let refError: unknown;
    try {
      ref = parseNormalizedNamed(name);
    } catch (err) {
      refError = err;
    }
    if (ref?.digest) specificDigest = true;

    if ((!record || !specificDigest) && ref && !ref.tag && !ref.digest) {
      await exportRepository(ref);
      continue;
    }
    if (!record) throw resolveError;
    // Docker stops here even for a full ID that did resolve: 64 hex digits are no repository name.
    if (refError) throw new LadingError('internal', (refError as Error).message);
    await exportImage(record, specificDigest ? undefined : ref);
  }

  async function exportRepository(ref: Reference): Promise<void> {
    const pattern = new RegExp(`^${escapeRegExp(repositoryName(ref))}:${TAG}$`);
    const records = (await src.metadata.listImages()).filter((r) => pattern.test(r.name));
    if (records.length === 0) throw new NotFoundError(`No such image: ${familiarString(tagNameOnly(ref))}`);
    for (const record of records) {
      let named: Reference;
      try {
        named = parseNamed(record.name);
      } catch {
        continue; // Docker logs and skips a stored name that does not parse.
      }
      await exportImage(record, named);
    }
  }

  const matcher = platform ? strictMatcher(platform) : platforms.length > 1 ? anyOfMatcher(platforms) : hostPreferenceMatcher();
  const archive = await prepareExport(src.content, {
    manifests,
    platform: matcher,
    skipMissing: true,
    skipNonDistributable: true,
  });
  for (const digest of archive.blobs) src.leases.hold(digest);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    src.leases.release(archive.blobs);
  };
  const stream = Readable.from(archive.chunks(), { objectMode: false });
  stream.once('close', release);
  return stream;
}

/** An image exported by ID carries no name: containerd would otherwise take it from these. */
function withoutImageName(target: Descriptor): Descriptor {
  const annotations = { ...target.annotations };
  delete annotations[ANNOTATION_IMAGE_NAME];
  delete annotations[ANNOTATION_REF_NAME];
  const { annotations: _, ...rest } = target;
  return Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
