/**
 * The images part of `GET /system/df`, as Docker 28 with the containerd store computes it
 * (daemon/disk_usage.go, daemon/containerd/service.go ImageDiskUsage): every image summarized with
 * its shared size, and LayersSize = the unpacked layers (each snapshot once) plus every present
 * blob an image reaches (each once).
 */
import type { ImageSummary } from './explorer-api-types.js';
import { listImages, type ImageSnapshot, type TargetFacts } from './image-list.js';

export interface ImageDiskUsage {
  layersSize: number;
  images: ImageSummary[];
  /** Images a container uses: none, Lading runs no containers. */
  activeCount: number;
  /** What removing the unused images would free: each one's unique size (Size - SharedSize). */
  reclaimable: number;
}

export async function imageDiskUsage(snapshot: ImageSnapshot): Promise<ImageDiskUsage> {
  const images = await listImages(snapshot, { all: false, filters: new Map(), sharedSize: true, manifests: false });
  return { layersSize: layersSize(snapshot.facts.values()), images, ...usageCounts(images) };
}

/**
 * Docker 29's imageDiskUsage (daemon/disk_usage.go): an image with containers is active; one whose
 * count is unknown (-1: no platform here) is neither active nor reclaimable; any other one frees its
 * unique size, when both sizes are known.
 */
export function usageCounts(images: readonly ImageSummary[]): { activeCount: number; reclaimable: number } {
  let activeCount = 0;
  let reclaimable = 0;
  for (const img of images) {
    if (img.containers > 0) activeCount++;
    else if (img.containers === 0 && img.size !== -1 && img.sharedSize !== -1) reclaimable += img.size - img.sharedSize;
  }
  return { activeCount, reclaimable };
}

/** Each chain ID's unpacked size once (a snapshot is shared), then each present blob once. */
export function layersSize(facts: Iterable<TargetFacts>): number {
  const snapshots = new Map<string, number>();
  const blobs = new Map<string, number>();
  for (const f of facts) {
    for (const c of f.chains) if (c.unpacked !== undefined) snapshots.set(c.chainId, c.unpacked);
    for (const [digest, size] of f.blobs) blobs.set(digest, size);
  }
  let total = 0;
  for (const size of snapshots.values()) total += size;
  for (const size of blobs.values()) total += size;
  return total;
}
