/**
 * `docker rmi`: Docker 28's containerd image service ImageDelete (daemon/containerd/image_delete.go)
 * and its resolveAllReferences (image.go). Lading runs no containers, so only the conflict between
 * an ID and several names remains; image parents (classic builder labels) do not exist either, so
 * `noprune` changes nothing.
 */
import { ConflictError, InvalidArgumentError, NotFoundError, withContext } from '../errors.js';
import type { ImageRecord, ImageRecords } from '../metadata/image-records.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import { formatPlatform, strictMatcher } from '../oci/platform.js';
import type { Platform } from '../oci/types.js';
import {
  familiarString,
  parseAnyReference,
  parseNamed,
  parseNormalizedNamed,
  referenceString,
  repositoryName,
  tagNameOnly,
  type Reference,
} from '../reference/reference.js';
import { logImageEvent, logImageNameEvent } from './image-events.js';
import type { DeleteResponse } from './explorer-api-types.js';
import type { ImageMutationSources } from './image-mutation.js';
import { DANGLING_PREFIX, familiarOfAny, isDangling } from './image-names.js';
import { bestPresentImage, walkPresent } from './present-content.js';

export interface RemoveOptions {
  force: boolean;
  /** Remove untagged parents too; Lading's images have none. */
  prune: boolean;
  /** Remove only these platforms' content (API >= 1.50). */
  platforms: Platform[];
}

/**
 * Removes what `refOrId` names and answers as Docker does: untagging only the names the reference
 * means when the image has others; deleting the image (every name, then its blobs no other image
 * uses) when given its ID or its only name; refusing with 409 an ID whose image has several names
 * unless forced.
 */
export async function removeImage(src: ImageMutationSources, refOrId: string, options: RemoveOptions): Promise<DeleteResponse[]> {
  if (options.platforms.length > 0 && !options.force) {
    throw new InvalidArgumentError('Content will be removed from all images referencing this variant. Use —-force to force delete.');
  }
  type Outcome = { image: ImageRecord } | { report: DeleteResponse[]; candidates?: Set<string> };
  const outcome = await src.gc.reading(async (): Promise<Outcome> => {
    // Decided and done in one transaction, so that no other request changes the world meanwhile.
    const done = await decidedAfresh(() => src.metadata.removal(async (tx): Promise<{ image: ImageRecord } | { plan: Plan }> => {
      const plan = await planRemoval(tx, refOrId, options.force);
      if (options.platforms.length > 0) return { image: plan.image ?? (await firstRecord(tx, plan.imageId)) };
      if (plan.kind === 'delete' && plan.activeReferences && plan.records.length > 1) {
        throw new ConflictError(
          `conflict: unable to delete ${truncateId(plan.imageId)} (must be forced) - image is referenced in multiple repositories`,
        );
      }
      // A removal always removes a record: none left to remove (a read committed after the name
      // resolved, on a shared database) is the same race as a delete that finds nothing.
      if (plan.records.length === 0) throw new RemovedMeanwhile();
      for (const record of plan.records) if (!(await tx.deleteImage(record.name))) throw new RemovedMeanwhile();
      return { plan };
    }));
    if ('image' in done) return done;
    const { plan } = done;
    if (plan.kind === 'untag') return { report: untagReferences(src, plan.records) };
    const report = await deleteAll(src, plan.imageId, plan.records);
    // Everything under the target is a candidate; the collector keeps what other images use.
    return { report, candidates: await src.gc.reachableFrom(plan.records.map((r) => r.target)) };
  });
  if ('image' in outcome) return deletePlatforms(src, outcome.image, options.platforms);
  if (outcome.candidates) await src.gc.collect(outcome.candidates);
  return outcome.report;
}

/**
 * A record the plan counted on was gone when deleted: another replica (on a shared database, whose
 * transactions read committed data) removed it after this one read it. The transaction is undone.
 */
class RemovedMeanwhile extends Error {}

/** Attempts of a removal whose records other replicas removed meanwhile; the last one answers as Docker would (No such image). */
const REMOVAL_ATTEMPTS = 3;

/** Runs `removal` again, deciding on what is there now, when another replica removed a record under it. */
async function decidedAfresh<T>(removal: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await removal();
    } catch (err) {
      if (!(err instanceof RemovedMeanwhile) || attempt >= REMOVAL_ATTEMPTS) throw err;
    }
  }
}

type Plan =
  | { kind: 'untag'; imageId: string; image?: ImageRecord; records: ImageRecord[] }
  | { kind: 'delete'; imageId: string; image?: ImageRecord; records: ImageRecord[]; activeReferences: boolean };

/** ImageDelete's decision, made in the transaction that carries it out. */
async function planRemoval(metadata: ImageRecords, refOrId: string, force: boolean): Promise<Plan> {
  const { image, all, parsed } = await resolveAllReferences(metadata, refOrId);
  // A soft conflict (several names) stops the removal unless forced or the reference means them all.
  let activeReferences = !force;
  if (!image) {
    const first = all[0];
    if (!first) throw noSuchImage(parsed);
    const imageId = first.target.digest;
    let named: Reference | undefined;
    if (!isImageIdPrefix(imageId, refOrId)) {
      try {
        named = parseNormalizedNamed(refOrId);
      } catch {
        named = undefined;
      }
    }
    const same = sameReferences(named, all);
    if (same.length === 0 && named) throw noSuchImage(named);
    if (same.length === all.length && !force) activeReferences = false;
    if (named && same.length > 0 && same.length !== all.length) return { kind: 'untag', imageId, records: same };
    return { kind: 'delete', imageId, records: all, activeReferences };
  }
  const imageId = image.target.digest;
  const explicitDangling = refOrId.startsWith(DANGLING_PREFIX) && isDangling(image);
  if (isImageIdPrefix(imageId, refOrId) || explicitDangling) {
    return { kind: 'delete', imageId, image, records: all, activeReferences };
  }
  const same = sameReferences(parseNormalizedNamed(image.name), all);
  if (same.length !== all.length) return { kind: 'untag', imageId, image, records: same };
  if (all.length > 1 && !force) activeReferences = false;
  return { kind: 'delete', imageId, image, records: all, activeReferences };
}

/** untagReferences, once these names are gone: the image stays with its others. */
function untagReferences(src: ImageMutationSources, records: ImageRecord[]): DeleteResponse[] {
  const report: DeleteResponse[] = [];
  for (const record of records) {
    let familiar: string;
    try {
      familiar = familiarString(parseNormalizedNamed(record.name));
    } catch {
      continue;
    }
    logImageNameEvent(src.events, record.target.digest, familiar, 'untag');
    report.push({ Untagged: familiar });
  }
  return report;
}

/** deleteAll, once every name is gone: each (Untagged, dangling ones silently), then the image (Deleted). */
async function deleteAll(src: ImageMutationSources, imageId: string, records: ImageRecord[]): Promise<DeleteResponse[]> {
  const report: DeleteResponse[] = [];
  for (const record of records) {
    const untagged = familiarOfAny(record.name);
    if (isDangling(record)) continue;
    logImageNameEvent(src.events, record.target.digest, untagged, 'untag');
    report.push({ Untagged: untagged });
  }
  await logImageEvent(src, imageId, imageId, 'delete');
  report.push({ Deleted: imageId });
  return report;
}

/**
 * deleteImagePlatforms: for each platform in turn, the present manifest of exactly that platform
 * and its blobs go; the image keeps its name and its other platforms. Unlike Docker, which deletes
 * those blobs outright, Lading keeps the ones another image or platform still uses.
 */
async function deletePlatforms(src: ImageMutationSources, image: ImageRecord, platforms: Platform[]): Promise<DeleteResponse[]> {
  const imageId = image.target.digest;
  const report: DeleteResponse[] = [];
  for (const platform of platforms) {
    try {
      const { manifest, blobs } = await src.gc.reading(async () => {
        const found = await bestPresentImage(src.reader, image, strictMatcher(platform), platform);
        return { manifest: found.manifest, blobs: await walkPresent(src.reader, found.manifest) };
      });
      const deleted = new Set(await src.gc.collect(blobs.map((b) => b.digest), { detached: new Set([manifest.digest]) }));
      for (const blob of blobs) {
        if (deleted.has(blob.digest) && (isIndexType(blob.mediaType) || isManifestType(blob.mediaType))) {
          report.push({ Deleted: blob.digest });
        }
      }
    } catch (err) {
      throw withContext(err, `failed to delete platform ${formatPlatform(platform)} for image ${imageId}`);
    }
  }
  return report;
}

async function firstRecord(metadata: ImageRecords, imageId: string): Promise<ImageRecord> {
  const first = (await metadata.imagesByTarget(imageId))[0];
  if (!first) throw new NotFoundError(`No such image: ${imageId}`);
  return first;
}

// ---------------------------------------------------------------- resolution

const TRUNCATED_ID = /^[a-f0-9]{4,64}$/;

interface Resolved {
  /** The record the reference names exactly, if any. */
  image?: ImageRecord;
  /** Every record with the same target (or, for a short ID, every record it matched). */
  all: ImageRecord[];
  parsed: Reference | { digestOnly: string };
}

/**
 * resolveAllReferences: an ID (full or short) matches targets, and a short ID that is also an
 * image's name must not mean two different targets (`ambiguous reference`); a name matches its
 * record, and a digested name the records of that digest.
 */
export async function resolveAllReferences(metadata: ImageRecords, refOrId: string): Promise<Resolved> {
  let parsed: Reference | { digestOnly: string };
  try {
    parsed = parseAnyReference(refOrId);
  } catch (err) {
    throw err instanceof InvalidArgumentError ? err : new InvalidArgumentError('invalid reference format');
  }
  let digest: string | undefined;
  let image: ImageRecord | undefined;

  const idWithoutAlgo = refOrId.replace(/^sha256:/, '');
  if (TRUNCATED_ID.test(idWithoutAlgo)) {
    if ('digestOnly' in parsed) {
      image = await metadata.getImage(parsed.digestOnly);
      digest = image ? image.target.digest : parsed.digestOnly;
    } else {
      const name = referenceString(tagNameOnly(parsed));
      const byName = await metadata.getImage(name);
      const matches = new Map<string, ImageRecord>();
      if (byName) matches.set(byName.name, byName);
      if (idWithoutAlgo.length <= 64) {
        for (const target of await metadata.targetsByPrefix(idWithoutAlgo, 2)) {
          for (const record of await metadata.imagesByTarget(target)) matches.set(record.name, record);
        }
      }
      const images = [...matches.values()].sort((a, b) => compareNames(a.name, b.name));
      if (images.length === 0) throw noSuchImage(parsed);
      for (const candidate of images) {
        if (candidate.name === name) image = candidate;
        if (digest !== undefined && candidate.target.digest !== digest) throw new NotFoundError('ambiguous reference');
        digest ??= candidate.target.digest;
      }
      if (!image || images.length > 1) return { image, all: images, parsed };
    }
  } else {
    if ('digestOnly' in parsed) throw new InvalidArgumentError('invalid name reference');
    digest = parsed.digest;
    const found = await metadata.getImage(referenceString(tagNameOnly(parsed)));
    if (found) {
      image = found;
      digest = found.target.digest;
    } else if (!digest) {
      throw noSuchImage(parsed);
    }
  }
  const all = digest ? await metadata.imagesByTarget(digest) : [];
  if (all.length === 0) throw noSuchImage(parsed);
  return { ...(image ? { image } : {}), all, parsed };
}

/**
 * getSameReferences: of records with one target, those the same as `named`: same name and tag;
 * same name and no tag when no other tag of that name is there; dangling ones. Without `named`,
 * the first named record decides.
 */
export function sameReferences(named: Reference | undefined, records: ImageRecord[]): ImageRecord[] {
  let tag = '';
  let allTags = false;
  if (named?.tag) tag = named.tag;
  else if (named?.digest) allTags = true;
  const same: ImageRecord[] = [];
  let digestRefs: ImageRecord[] | null = [];
  for (const record of records) {
    if (!isDangling(record)) {
      let repoRef: Reference | undefined;
      try {
        repoRef = parseNamed(record.name);
      } catch {
        repoRef = undefined; // Docker keeps a name it cannot parse in the set
      }
      if (repoRef) {
        if (!named) {
          named = repoRef;
          if (repoRef.tag) tag = repoRef.tag;
        } else if (repositoryName(named) !== repositoryName(repoRef)) {
          continue;
        } else if (!allTags) {
          if (repoRef.tag) {
            if (tag === '') {
              tag = repoRef.tag;
            } else if (tag !== repoRef.tag) {
              digestRefs = null; // same repository, another tag: digest names are not "the same"
              continue;
            }
          } else {
            digestRefs?.push(record);
            continue;
          }
        }
      }
    }
    same.push(record);
  }
  if (digestRefs) same.push(...digestRefs);
  return same;
}

/** isImageIDPrefix: `id` starts with `prefix`, with or without its algorithm. */
function isImageIdPrefix(id: string, prefix: string): boolean {
  if (id.startsWith(prefix)) return true;
  const colon = id.indexOf(':');
  return colon >= 0 && id.slice(colon + 1).startsWith(prefix);
}

/** stringid.TruncateID: 12 hex digits, no algorithm. */
function truncateId(id: string): string {
  const colon = id.indexOf(':');
  return (colon >= 0 ? id.slice(colon + 1) : id).slice(0, 12);
}

/** ErrImageDoesNotExist. */
function noSuchImage(ref: Reference | { digestOnly: string }): NotFoundError {
  return new NotFoundError(`No such image: ${'digestOnly' in ref ? ref.digestOnly : familiarString(tagNameOnly(ref))}`);
}

/** containerd lists image records by name, bytewise. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
