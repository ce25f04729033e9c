import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageSummary, SUMMARY_ID } from '../images/testing/image-summary-fixture.js';
import { renderDiskUsage, type DiskUsageReport } from './disk-usage-view.js';

const ID = SUMMARY_ID;
const tagged = imageSummary();
const dangling = imageSummary({ repoTags: null, repoDigests: null, size: 0 });
const SUMMARY =
  `{"Containers":0,"Created":1700000000,"Id":"${ID}","Labels":null,"ParentId":"",` +
  `"Descriptor":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"${ID}","size":500},` +
  `"RepoDigests":null,"RepoTags":null,"SharedSize":-1,"Size":0}`;

const everything: DiskUsageReport = {
  images: { layersSize: 99, images: [dangling], activeCount: 0, reclaimable: 0 },
  containers: true,
  volumes: true,
  buildCache: true,
};
const doc = (report: DiskUsageReport, version: string): Record<string, unknown> =>
  JSON.parse(renderDiskUsage(report, version).toString()) as Record<string, unknown>;

test('system df up to 1.51 (Docker 28.5): the summaries unshaped but for VirtualSize, lists not asked for null', () => {
  assert.equal(
    renderDiskUsage(everything, '1.51').toString(),
    `{"LayersSize":99,"Images":[${SUMMARY}],"Containers":[],"Volumes":[],"BuildCache":[]}\n`,
  );
  const old = doc({ ...everything, images: { layersSize: 1, images: [tagged], activeCount: 0, reclaimable: 0 } }, '1.41');
  const images = old.Images as Array<Record<string, unknown>>;
  assert.equal(images[0]?.VirtualSize, 1234);
  assert.ok('Descriptor' in (images[0] ?? {}));
  assert.equal(
    renderDiskUsage({ containers: true, volumes: false, buildCache: false }, '1.51').toString(),
    '{"LayersSize":0,"Images":null,"Containers":[],"Volumes":null,"BuildCache":null}\n',
  );
  // verbose means nothing below 1.52.
  assert.deepEqual(Object.keys(doc({ ...everything, verbose: true }, '1.51')), ['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache']);
});

test('system df at 1.52 (Docker 29.7): the legacy fields, then per-type objects with zeros left out and Items filled', () => {
  const report = { ...everything, images: { layersSize: 99, images: [dangling], activeCount: 0, reclaimable: 1234 } };
  assert.equal(
    renderDiskUsage(report, '1.52').toString(),
    `{"LayersSize":99,"Images":[${SUMMARY}],"Containers":[],"Volumes":[],"BuildCache":[],` +
      `"ImageUsage":{"Items":[${SUMMARY}],"Reclaimable":1234,"TotalCount":1,"TotalSize":99},` +
      `"ContainerUsage":{},"VolumeUsage":{},"BuildCacheUsage":{}}\n`,
  );
  assert.equal(
    renderDiskUsage({ ...report, verbose: true }, '1.55').toString(),
    `{"ImageUsage":{"Items":[${SUMMARY}],"Reclaimable":1234,"TotalCount":1,"TotalSize":99},` +
      `"ContainerUsage":{},"VolumeUsage":{},"BuildCacheUsage":{}}\n`,
  );
});

test('system df at 1.52 with type=: what was not asked for is left out, an empty store is all zeros left out', () => {
  assert.equal(
    renderDiskUsage({ containers: true, volumes: false, buildCache: false }, '1.52').toString(),
    '{"Containers":[],"ContainerUsage":{}}\n',
  );
  const empty = { images: { layersSize: 0, images: [], activeCount: 0, reclaimable: 0 }, containers: false, volumes: false, buildCache: false };
  assert.equal(renderDiskUsage(empty, '1.52').toString(), '{"Images":[],"ImageUsage":{}}\n');
  assert.equal(renderDiskUsage({ ...empty, verbose: true }, '1.52').toString(), '{"ImageUsage":{}}\n');
});
