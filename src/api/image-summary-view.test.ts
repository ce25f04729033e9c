import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageSummary } from '../images/explorer-api-types.js';
import { imageSummary, SUMMARY_ID } from '../images/testing/image-summary-fixture.js';
import { renderImageList } from './image-summary-view.js';

const ID = SUMMARY_ID;
const descriptor = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: ID, size: 500 };

const tagged: ImageSummary = imageSummary({ labels: { 'z.last': '1', 'a.first': '<b>&</b>' } });
const dangling: ImageSummary = { ...tagged, repoTags: null, repoDigests: null, labels: null, size: 0 };

const list = (images: ImageSummary[], version: string): Array<Record<string, unknown>> =>
  JSON.parse(renderImageList(images, version).toString()) as Array<Record<string, unknown>>;

test('keys in Go’s order for each version, labels sorted and not HTML-escaped', () => {
  const body = renderImageList([tagged], '1.51').toString();
  assert.equal(
    body,
    `[{"Containers":0,"Created":1700000000,"Id":"${ID}","Labels":{"a.first":"<b>&</b>","z.last":"1"},"ParentId":"",` +
      `"Descriptor":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"${ID}","size":500},` +
      `"RepoDigests":["app@${ID}"],"RepoTags":["app:1"],"SharedSize":-1,"Size":1234}]\n`,
  );
  assert.deepEqual(Object.keys(list([tagged], '1.43')[0] ?? {}), [
    'Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size', 'VirtualSize',
  ]);
  assert.deepEqual(Object.keys(list([tagged], '1.47')[0] ?? {}), [
    'Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size',
  ]);
  assert.equal(renderImageList([], '1.51').toString(), '[]\n');
});

test('Containers is -1 below 1.51; VirtualSize = Size below 1.44, left out when 0', () => {
  assert.equal(list([tagged], '1.50')[0]?.Containers, -1);
  assert.equal(list([tagged], '1.51')[0]?.Containers, 0);
  assert.equal(list([{ ...tagged, containers: -1 }], '1.51')[0]?.Containers, -1);
  assert.equal(list([tagged], '1.43')[0]?.VirtualSize, 1234);
  assert.ok(!('VirtualSize' in (list([dangling], '1.43')[0] ?? {})));
});

test('no names: <none> below 1.43, [] from 1.43; Labels null stays null', () => {
  const old = list([dangling], '1.42')[0];
  assert.deepEqual([old?.RepoTags, old?.RepoDigests], [['<none>:<none>'], ['<none>@<none>']]);
  const now = list([dangling], '1.43')[0];
  assert.deepEqual([now?.RepoTags, now?.RepoDigests], [[], []]);
  assert.equal(now?.Labels, null);
  // Only an image with neither gets <none>; a nil list beside a full one stays null.
  const half = list([{ ...dangling, repoDigests: [ID] }], '1.42')[0];
  assert.deepEqual([half?.RepoTags, half?.RepoDigests], [null, [ID]]);
});

/** One available image manifest of an amd64 image, as a summary's `manifests` carries it. */
const imageManifest = {
  id: ID,
  descriptor,
  available: true,
  contentSize: 10,
  totalSize: 30,
  kind: 'image' as const,
  imageData: { platform: { architecture: 'amd64', os: 'linux' }, unpackedSize: 20 },
};

test('Manifests when the summary carries them', () => {
  const doc = list([{ ...tagged, manifests: [imageManifest] }], '1.51')[0];
  assert.deepEqual(Object.keys(doc ?? {}).slice(5, 7), ['Descriptor', 'Manifests']);
  assert.deepEqual(doc?.Manifests, [
    {
      ID,
      Descriptor: descriptor,
      Available: true,
      Size: { Content: 10, Total: 30 },
      Kind: 'image',
      ImageData: { Platform: { architecture: 'amd64', os: 'linux' }, Size: { Unpacked: 20 }, Containers: null },
    },
  ]);
});

test('identity=1 (1.54): each available image manifest carries the image\'s Identity after its Platform; others none', () => {
  const image = imageManifest;
  const absent = { ...image, id: 'sha256:' + 'c'.repeat(64), available: false };
  const identity = { pull: [{ repository: '127.0.0.1:5000/x' }] };
  const body = renderImageList([{ ...tagged, manifests: [image, absent], identity }], '1.54').toString();
  assert.ok(body.includes('"ImageData":{"Platform":{"architecture":"amd64","os":"linux"},"Identity":{"Pull":[{"Repository":"127.0.0.1:5000/x"}]},"Size"'), body);
  const docs = JSON.parse(body) as Array<{ Manifests: Array<{ ImageData: Record<string, unknown> }> }>;
  assert.equal('Identity' in (docs[0]?.Manifests[1]?.ImageData ?? {}), false);
  // Without identity the manifests are as before.
  assert.doesNotMatch(renderImageList([{ ...tagged, manifests: [image] }], '1.54').toString(), /Identity/);
});
