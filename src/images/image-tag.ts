/**
 * `docker tag`: Docker 28's postImagesTag (api/server/router/image/image_routes.go) over the
 * containerd image service's TagImage and createOrReplaceImage (daemon/containerd/image_tag.go,
 * soft_delete.go).
 */
import { InvalidArgumentError, LadingError, NotFoundError } from '../errors.js';
import type { ImageRecord, ImageRecords } from '../metadata/image-records.js';
import type { TransactionScope } from '../metadata/metadata-transaction.js';
import { hostPreferenceMatcher } from '../oci/platform.js';
import type { Descriptor } from '../oci/types.js';
import {
  familiarName,
  familiarString,
  parseNormalizedNamed,
  referenceString,
  tagNameOnly,
  withTag,
  type Reference,
} from '../reference/reference.js';
import { nowRfc3339Nano } from '../util/go-time.js';
import type { ImageMutationSources } from './image-mutation.js';
import { danglingName } from './image-names.js';
import { bestPresentImage, configLabels } from './present-content.js';
import { resolveImage } from './resolve.js';

/**
 * httputils.RepoTagReference and the route's checks: the name `repo` and `tag` ask for, or
 * undefined when `repo` is empty (Docker then answers 200 and does nothing).
 */
export function tagReference(repo: string, tag: string): Reference | undefined {
  if (repo === '') return undefined;
  const ref = parseNormalizedNamed(repo);
  if (ref.digest) throw new InvalidArgumentError('cannot import digest reference');
  const named = tag !== '' ? withTag(ref, tag) : tagNameOnly(ref);
  if (familiarName(named) === 'sha256') {
    throw new InvalidArgumentError('refusing to create an ambiguous tag using digest algorithm as name');
  }
  return named;
}

/**
 * Names the image `source` resolves to `newTag`. The source must resolve to an image with a platform
 * here (Docker's GetImage; every failure of it is a 404). A name already pointing elsewhere moves;
 * the image it leaves keeps a dangling record when nothing else names it.
 */
export async function tagImage(src: ImageMutationSources, source: string, newTag: Reference): Promise<void> {
  await src.gc.reading(async () => {
    let labels: Record<string, string>;
    let target: Descriptor;
    try {
      const record = await resolveImage(src.metadata, source);
      labels = configLabels((await bestPresentImage(src.reader, record, hostPreferenceMatcher())).config);
      // TagImage resolves the image ID again: the first record with that target, as of now.
      const first = (await src.metadata.imagesByTarget(record.target.digest))[0];
      if (!first) {
        const id = record.target.digest;
        throw new NotFoundError(`failed to resolve image id "${id}" to a descriptor: No such image: ${id}`);
      }
      target = first.target;
    } catch (err) {
      if (err instanceof LadingError && err.kind === 'not-found') throw err;
      throw new NotFoundError(err instanceof Error ? err.message : String(err), { cause: err });
    }
    await createOrReplaceImage(src.metadata, referenceString(newTag), target, nowRfc3339Nano());
    src.events.emit('image', 'tag', target.digest, { ...labels, name: familiarString(newTag) });
  });
}

/**
 * createOrReplaceImage: `name` points at `target` afterwards. Pointing it at the target it already
 * has changes nothing (not even the times); a name that moves leaves a dangling record of the image
 * it pointed at when that was its last name; the new target's dangling record goes. One transaction.
 */
export async function createOrReplaceImage(metadata: TransactionScope, name: string, target: Descriptor, now: string): Promise<void> {
  const creatingDangling = name === danglingName(target.digest);
  await metadata.transaction(async (tx) => {
    const existing = await tx.getImage(name);
    if (existing) {
      if (existing.target.digest === target.digest) return;
      if ((await tx.imagesByTarget(existing.target.digest)).length === 1) await ensureDanglingImage(tx, existing, now);
      await tx.deleteImage(name);
    }
    const record: ImageRecord = { name, target, createdAt: now, updatedAt: now };
    await tx.putImage(record);
    if (!creatingDangling) await tx.deleteImage(danglingName(target.digest));
  });
}

/** A dangling record keeping `from`'s target, unless one exists. */
async function ensureDanglingImage(metadata: ImageRecords, from: ImageRecord, now: string): Promise<void> {
  const name = danglingName(from.target.digest);
  if (await metadata.getImage(name)) return;
  await metadata.putImage({ name, target: from.target, createdAt: now, updatedAt: now });
}
