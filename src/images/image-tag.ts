/**
 * `docker tag`: Docker 28's postImagesTag (api/server/router/image/image_routes.go) over the
 * containerd image service's TagImage (daemon/containerd/image_tag.go); the naming itself, its
 * createOrReplaceImage, is image-naming.ts's.
 */
import { InvalidArgumentError, LadingError, NotFoundError } from '../errors.js';
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
import { nameImage } from './image-naming.js';
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
    const now = nowRfc3339Nano();
    await src.metadata.transaction((tx) => nameImage(tx, referenceString(newTag), target, now, 'replace'));
    src.events.emit('image', 'tag', target.digest, { ...labels, name: familiarString(newTag) });
  });
}
