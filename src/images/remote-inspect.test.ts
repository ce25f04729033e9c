import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaType } from '../oci/media-types.js';
import { hostPreferenceMatcher } from '../oci/platform.js';
import type { Descriptor } from '../oci/types.js';
import type { RemoteImage } from '../registry/remote-image.js';
import { collectInspectFacts } from './inspect.js';
import { AsPulled, remoteReference } from './remote-inspect.js';

const d = (n: number, mediaType: string, size: number, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType,
  digest: `sha256:${n.toString(16).padStart(64, '0')}`,
  size,
  ...extra,
});

test('AsPulled: the chosen manifest is available with its layers, the others are not, unpacked sizes unknown', async () => {
  const layers = [d(1, MediaType.ociLayerGzip, 1000), d(2, MediaType.ociLayerGzip, 2000)];
  const config = d(3, MediaType.ociConfig, 300);
  const amd = d(4, MediaType.ociManifest, 400, { platform: { os: 'linux', architecture: 'amd64' } });
  const arm = d(5, MediaType.ociManifest, 500, { platform: { os: 'linux', architecture: 'arm64' } });
  const index = d(6, MediaType.ociIndex, 600);
  const image: RemoteImage = {
    target: index,
    manifest: amd,
    layers,
    documents: new Map<string, unknown>([
      [index.digest, { schemaVersion: 2, manifests: [amd, arm] }],
      [amd.digest, { schemaVersion: 2, config, layers }],
      [config.digest, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:b'] }, config: { Labels: { a: 'b' } } }],
    ]),
  };
  const facts = await collectInspectFacts(new AsPulled(image), { unpackedSize: async () => undefined }, index, hostPreferenceMatcher({ os: 'linux', architecture: 'amd64' }));
  assert.equal(facts.id, index.digest);
  assert.equal(facts.best?.descriptor, amd);
  assert.deepEqual(facts.best?.config.config, { Labels: { a: 'b' } });
  // Docker 28's Size: index, the best manifest, its config and compressed layers.
  assert.equal(facts.size, 600 + 400 + 300 + 1000 + 2000);
  assert.deepEqual(
    facts.manifests.map((m) => [m.id, m.available, m.contentSize, m.totalSize, m.imageData?.unpackedSize]),
    [
      [amd.digest, true, 400 + 300 + 1000 + 2000, 400 + 300 + 1000 + 2000, 0],
      [arm.digest, false, 0, 0, 0],
    ],
  );
  assert.equal(await new AsPulled(image).has(arm.digest), false);
});

test('remoteReference: a name with latest by default; an ID or a bad name is refused', () => {
  assert.deepEqual(remoteReference('alpine'), { domain: 'docker.io', path: 'library/alpine', tag: 'latest' });
  assert.equal(remoteReference('127.0.0.1:5000/lab/x@sha256:' + 'a'.repeat(64)).digest, 'sha256:' + 'a'.repeat(64));
  assert.throws(() => remoteReference('a'.repeat(64)), { name: 'InvalidArgumentError', message: 'no manifest found for full image ID' });
  assert.throws(() => remoteReference('lab/UPPER'), { name: 'InvalidArgumentError', message: /invalid reference format/ });
});
