/**
 * `docker image prune`: Docker 28's containerd ImagesPrune, pruneUnused and pruneAll
 * (daemon/containerd/image_prune.go). Lading runs no containers, so every image is unused: `-a`
 * (`dangling=false`) prunes them all. The containerd store logs `untag` and `delete` per image and
 * no `prune` event (that one is the classic store's).
 */
import { ConflictError } from '../errors.js';
import type { ImageRecord } from '../metadata/metadata-store.js';
import { isIndexType, isManifestType } from '../oci/media-types.js';
import type { Descriptor, ImageConfig } from '../oci/types.js';
import { rfc3339Nanos } from '../util/go-time.js';
import type { ContentReader } from '../content/content-reader.js';
import { logImageNameEvent } from './image-events.js';
import { filterBool, validateFilters, type FilterArgs } from '../filters/filter-args.js';
import { labelChecks, labelsMatch, untilTimes, type LabelCheck } from './image-filters.js';
import type { ImageMutationSources } from './image-mutation.js';
import { isDangling } from './image-names.js';
import type { DeleteResponse, PruneReport } from './explorer-api-types.js';
import { imageFamiliarName } from './platform-not-found.js';
import { walkPresent } from './present-content.js';

const ACCEPTED_FILTERS = new Set(['dangling', 'label', 'label!', 'until']);
const CONFIG_TYPES = new Set(['application/vnd.docker.container.image.v1+json', 'application/vnd.oci.image.config.v1+json']);

/** Stores with a prune in progress: Docker refuses a second one. */
const running = new WeakSet<object>();

/**
 * Prunes dangling images (all images with `dangling=false`) that pass the `until` and `label`
 * filters. Each image is reported as untagged (a dangling one by its ID), followed by the manifests
 * and indexes its removal freed; SpaceReclaimed counts every blob it freed.
 */
export async function pruneImages(
  src: ImageMutationSources,
  filters: FilterArgs,
  now: Date = new Date(),
  options: { dryRun?: boolean } = {},
): Promise<PruneReport> {
  if (options.dryRun) return src.gc.reading(() => prunePlan(src, filters, now));
  if (running.has(src.metadata)) throw new ConflictError('a prune operation is already running');
  running.add(src.metadata);
  try {
    const { pruned, walks, gone } = await src.gc.reading(async () => {
      const { chosen, walks } = await chooseImages(src, filters, now);
      // Only records still as they were chosen; the rest changed under us and are left alone.
      const { pruned, gone } = await src.metadata.removal(async (tx) => {
        const pruned: ImageRecord[] = [];
        for (const record of chosen) {
          const current = await tx.getImage(record.name);
          if (current?.target.digest === record.target.digest && (await tx.deleteImage(record.name))) pruned.push(record);
        }
        const gone = new Set<string>();
        for (const digest of walks.keys()) if ((await tx.imagesByTarget(digest)).length === 0) gone.add(digest);
        return { pruned, gone };
      });
      return { pruned, walks, gone };
    });

    const deleted = new Set(await src.gc.collect([...walks.values()].flat().map((d) => d.digest)));
    return report(src, pruned, walks, gone, deleted);
  } finally {
    running.delete(src.metadata);
  }
}

/** The images a prune with `filters` takes, and the present blobs under each target. */
async function chooseImages(
  src: ImageMutationSources,
  filters: FilterArgs,
  now: Date,
): Promise<{ chosen: ImageRecord[]; walks: Map<string, Descriptor[]> }> {
  validateFilters(filters, ACCEPTED_FILTERS);
  const danglingOnly = filterBool(filters, 'dangling', true);
  const rest: FilterArgs = new Map(filters);
  rest.delete('dangling');
  const untils = untilTimes(rest, BigInt(now.getTime()) * 1_000_000n, -now.getTimezoneOffset() * 60);
  const checks = labelChecks(rest);
  const chosen: ImageRecord[] = [];
  for (const record of await src.metadata.listImages()) {
    if (danglingOnly && !isDangling(record)) continue;
    const created = rfc3339Nanos(record.createdAt);
    if (created !== undefined && untils.some((until) => created >= until)) continue;
    if (checks.length > 0 && !(await anyConfigMatches(src.reader, record.target, checks))) continue;
    chosen.push(record);
  }
  const walks = new Map<string, Descriptor[]>();
  for (const record of chosen) {
    if (!walks.has(record.target.digest)) walks.set(record.target.digest, await walkPresent(src.reader, record.target));
  }
  return { chosen, walks };
}

/**
 * The report a prune would give now, changing nothing (Lading's explorer): the same choice, and as
 * deleted every blob under a chosen target that no image left afterwards reaches. Leases of loads
 * in flight are not counted: a real prune would keep those blobs until the loads finish.
 */
async function prunePlan(src: ImageMutationSources, filters: FilterArgs, now: Date): Promise<PruneReport> {
  const { chosen, walks } = await chooseImages(src, filters, now);
  const names = new Set(chosen.map((r) => r.name));
  const remaining = (await src.metadata.listImages()).filter((r) => !names.has(r.name));
  const kept = await src.gc.reachableFrom(remaining.map((r) => r.target));
  const stay = new Set(remaining.map((r) => r.target.digest));
  const gone = new Set([...walks.keys()].filter((digest) => !stay.has(digest)));
  const deleted = new Set([...walks.values()].flat().map((d) => d.digest).filter((d) => !kept.has(d)));
  return report(src, chosen, walks, gone, deleted, { events: false });
}

/**
 * pruneAll's report, as if each image were removed and collected in turn: a blob is reported under
 * the image whose removal freed it (the last one reaching it), as often as that image's walk lists it.
 */
function report(
  src: ImageMutationSources,
  pruned: ImageRecord[],
  walks: Map<string, Descriptor[]>,
  gone: ReadonlySet<string>,
  deleted: ReadonlySet<string>,
  options: { events: boolean } = { events: true },
): PruneReport {
  const lastStep = new Map<string, number>();
  pruned.forEach((record, step) => lastStep.set(record.target.digest, step));
  const freedAt = new Map<string, number>();
  for (const [target, blobs] of walks) {
    const step = lastStep.get(target);
    if (step === undefined || !gone.has(target)) continue;
    for (const blob of blobs) freedAt.set(blob.digest, Math.max(freedAt.get(blob.digest) ?? -1, step));
  }

  const imagesDeleted: DeleteResponse[] = [];
  let spaceReclaimed = 0;
  pruned.forEach((record, step) => {
    const familiar = imageFamiliarName(record);
    if (options.events) logImageNameEvent(src.events, record.target.digest, familiar, 'untag');
    imagesDeleted.push({ Untagged: familiar });
    let deletedAny = false;
    for (const blob of walks.get(record.target.digest) ?? []) {
      if (!deleted.has(blob.digest) || freedAt.get(blob.digest) !== step) continue;
      if (isManifestType(blob.mediaType) || isIndexType(blob.mediaType)) {
        deletedAny = true;
        imagesDeleted.push({ Deleted: blob.digest });
      }
      spaceReclaimed += blob.size;
    }
    if (deletedAny && options.events) logImageNameEvent(src.events, record.target.digest, familiar, 'delete');
  });
  return { ImagesDeleted: imagesDeleted.length > 0 ? imagesDeleted : null, SpaceReclaimed: spaceReclaimed };
}

/** setupLabelFilter: some present config under the image passes every check. */
async function anyConfigMatches(reader: ContentReader, target: Descriptor, checks: readonly LabelCheck[]): Promise<boolean> {
  for (const desc of await walkPresent(reader, target)) {
    if (!CONFIG_TYPES.has(desc.mediaType)) continue;
    const config = await reader.readConfig(desc).catch(() => undefined);
    if (!config || typeof config !== 'object') continue;
    if (labelsMatch(checks, labelsOf(config))) return true;
  }
  return false;
}

function labelsOf(config: ImageConfig): Record<string, string> | null {
  const labels = config.config?.Labels;
  return labels && typeof labels === 'object' ? labels : null;
}
