import type { ImageDiskUsage } from '../images/disk-usage.js';
import { compareVersions, versionLessThan } from './api-version.js';
import { body, summaryDoc } from './image-summary-view.js';

/** What `GET /system/df` was asked for; Lading runs no containers, has no volumes and no build cache. */
export interface DiskUsageReport {
  images?: ImageDiskUsage;
  containers: boolean;
  volumes: boolean;
  buildCache: boolean;
  /** `verbose=1`: from API 1.52, the client reads the per-type objects only. */
  verbose?: boolean;
}

/**
 * Which document an API version gets, as data (daemon/server/router/system getDiskUsage):
 * - `docker28`: Docker 28.5's types.DiskUsage: `LayersSize` always, a list not asked for null.
 * - `docker29`: the per-type `ImageUsage`, `ContainerUsage`, `VolumeUsage`, `BuildCacheUsage`,
 *   preceded, unless `verbose=1`, by Docker 29's legacyDiskUsage (`LayersSize` when not 0, a list
 *   not asked for left out, an asked one never null).
 */
const SHAPES: ReadonlyArray<{ from: string; document: 'docker28' | 'docker29' }> = [
  { from: '1.52', document: 'docker29' },
  { from: '0', document: 'docker28' },
];

function shapeFor(version: string): (typeof SHAPES)[number] {
  return SHAPES.find((s) => compareVersions(version, s.from) >= 0) ?? SHAPES[SHAPES.length - 1]!;
}

/** {ActiveCount, Items, Reclaimable, TotalCount, TotalSize} (struct order), each left out when zero. */
function usage(u: { active: number; items: unknown[]; reclaimable: number; total: number; size: number }): object {
  return {
    ActiveCount: u.active || undefined,
    Items: u.items.length ? u.items : undefined,
    Reclaimable: u.reclaimable || undefined,
    TotalCount: u.total || undefined,
    TotalSize: u.size || undefined,
  };
}

const NOTHING = { active: 0, items: [], reclaimable: 0, total: 0, size: 0 };

/**
 * The body of `GET /system/df` for `version`: the image summaries as the image service made them
 * (no version shaping but VirtualSize below 1.44), in Docker 28.5's or 29.7's document.
 */
export function renderDiskUsage(report: DiskUsageReport, version: string): Buffer {
  const virtualSize = versionLessThan(version, '1.44');
  const du = report.images;
  const images = du?.images.map((s) =>
    summaryDoc(s, { repoTags: s.repoTags, repoDigests: s.repoDigests, containers: s.containers, descriptor: true, virtualSize }),
  );
  if (shapeFor(version).document === 'docker28') {
    return body({
      LayersSize: du?.layersSize ?? 0,
      Images: images ?? null,
      Containers: report.containers ? [] : null,
      Volumes: report.volumes ? [] : null,
      BuildCache: report.buildCache ? [] : null,
    });
  }
  const legacy = !report.verbose;
  const asked = (wanted: boolean): [] | undefined => (legacy && wanted ? [] : undefined);
  return body({
    LayersSize: legacy && du?.layersSize ? du.layersSize : undefined,
    Images: legacy ? images : undefined,
    Containers: asked(report.containers),
    Volumes: asked(report.volumes),
    BuildCache: asked(report.buildCache),
    // Items are filled with or without `verbose` (the legacy lists need them anyway).
    ImageUsage: du
      ? usage({ active: du.activeCount, items: images ?? [], reclaimable: du.reclaimable, total: du.images.length, size: du.layersSize })
      : undefined,
    ContainerUsage: report.containers ? usage(NOTHING) : undefined,
    VolumeUsage: report.volumes ? usage(NOTHING) : undefined,
    BuildCacheUsage: report.buildCache ? usage(NOTHING) : undefined,
  });
}
