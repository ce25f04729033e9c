import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usageCounts } from './disk-usage.js';
import { imageSummary } from './testing/image-summary-fixture.js';

const image = (size: number, sharedSize: number, containers: number) => imageSummary({ size, sharedSize, containers });

test('usageCounts (Docker 29 imageDiskUsage): no container, no active image; each frees its unique size', () => {
  assert.deepEqual(usageCounts([image(100, 40, 0), image(50, 0, 0)]), { activeCount: 0, reclaimable: 110 });
  // A count unknown (-1: no platform here) or a size not computed frees nothing.
  assert.deepEqual(usageCounts([image(100, 40, -1), image(100, -1, 0)]), { activeCount: 0, reclaimable: 0 });
  assert.deepEqual(usageCounts([image(100, 40, 2)]), { activeCount: 1, reclaimable: 0 });
});
