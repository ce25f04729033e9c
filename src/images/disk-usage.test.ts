import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usageCounts } from './disk-usage.js';
import type { ImageSummary } from './image-list.js';

const image = (size: number, sharedSize: number, containers: number): ImageSummary => ({
  id: 'sha256:' + 'a'.repeat(64),
  parentId: '',
  repoTags: null,
  repoDigests: null,
  created: 0,
  size,
  sharedSize,
  labels: null,
  containers,
  descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 1 },
});

test('usageCounts (Docker 29 imageDiskUsage): no container, no active image; each frees its unique size', () => {
  assert.deepEqual(usageCounts([image(100, 40, 0), image(50, 0, 0)]), { activeCount: 0, reclaimable: 110 });
  // A count unknown (-1: no platform here) or a size not computed frees nothing.
  assert.deepEqual(usageCounts([image(100, 40, -1), image(100, -1, 0)]), { activeCount: 0, reclaimable: 0 });
  assert.deepEqual(usageCounts([image(100, 40, 2)]), { activeCount: 1, reclaimable: 0 });
});
