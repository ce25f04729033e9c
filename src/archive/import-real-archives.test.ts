// Archives written by real tools (skopeo, tar) from the shared test images, when skopeo is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as fixtures from '../../test/support/images.js';
import { MediaType } from '../oci/media-types.js';
import { sha256, tempStore } from './testing/archive-builder.js';
import { importArchive } from './import-archive.js';

const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;
const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

async function importFile(file: string) {
  const { store, cleanup } = await tempStore();
  cleanups.push(cleanup);
  return importArchive(createReadStream(file), store);
}

async function regularFileBytes(layerTar: Buffer): Promise<number> {
  return [...(await fixtures.untar(layerTar)).values()].reduce((n, b) => n + b.length, 0);
}

describe('importArchive on archives made by skopeo', { skip: !hasSkopeo && 'skopeo not installed', timeout: 180_000 }, () => {
  it('docker-archive: manifest, platform, names and layer sizes', async () => {
    const fx = await fixtures.singlePlatformImage();
    const file = await fixtures.dockerArchive(fx);
    const files = await fixtures.untar(readFileSync(file));
    const [entry] = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Config: string; Layers: string[] }>;
    const read = (name: string): Buffer => {
      const data = files.get(path.posix.normalize(name));
      if (!data) throw new Error(`${name} not among ${[...files.keys()].join(', ')}`);
      return data;
    };
    const config = read(entry!.Config);
    const layers = entry!.Layers.map(read);
    const manifest =
      `{"schemaVersion":2,"mediaType":"${MediaType.dockerManifest}","config":{"mediaType":"${MediaType.dockerConfig}","digest":"${sha256(config)}","size":${config.length}},` +
      `"layers":[${layers.map((l) => `{"mediaType":"${MediaType.dockerLayer}","digest":"${sha256(l)}","size":${l.length}}`).join(',')}]}`;

    const res = await importFile(file);
    assert.deepEqual(res.images, [
      {
        name: fx.ref,
        target: {
          mediaType: MediaType.dockerManifest,
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { 'io.containerd.image.name': fx.ref, 'org.opencontainers.image.ref.name': fx.tag },
          platform: { architecture: 'amd64', os: 'linux' },
        },
      },
    ]);
    assert.deepEqual(
      res.layers.map((l) => l.unpackedSize),
      await Promise.all(layers.map(regularFileBytes)),
    );
  });

  it('oci-archive and plain layout tar of a multi-platform image', async () => {
    const fx = await fixtures.multiPlatformImage();
    for (const file of [await fixtures.ociArchive(fx), await fixtures.layoutTar(fx)]) {
      const res = await importFile(file);
      assert.equal(res.images.length, 1);
      assert.equal(res.images[0]!.name, fx.ref);
      assert.equal(res.images[0]!.target.digest, fx.id);
      assert.deepEqual(res.layers.map((l) => l.diffId).sort(), fx.images.flatMap((i) => i.diffIds).sort());
    }
  });
});
