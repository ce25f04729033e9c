// Layers analysed on the analysis pool's workers, while written or from the store, several at once:
// each keeps its own facts and its own refusal.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import { buildTar, chunked, tempStore, type TarEntrySpec } from './testing/archive-builder.js';
import { OCI_LAYOUT, blob, blobEntry, compressed, configJson, indexJson, layer, ociManifest } from './testing/image-builder.js';
import { importArchive, type ImportResult } from './import-archive.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

async function newStore(): Promise<ContentStore> {
  const { store, cleanup } = await tempStore();
  cleanups.push(cleanup);
  return store;
}

async function load(store: ContentStore, entries: TarEntrySpec[]): Promise<ImportResult> {
  return importArchive(chunked(await buildTar(entries)), store, {});
}

async function loadFails(store: ContentStore, entries: TarEntrySpec[], message: RegExp): Promise<void> {
  await assert.rejects(load(store, entries), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('layers analysed in parallel', () => {
  it('many large gzip and zstd layers, analysed as they are written and from the store, several at once, give each its own facts', async () => {
    const store = await newStore();
    const layers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => layer({ [`l${i}/data`]: randomBytes(1_200_000 + i * 1000), [`l${i}/text`]: 'x'.repeat(i * 100) })),
    );
    const blobs = layers.map((l, i) => (i % 2 ? blob(compressed(l, 'zstd'), MediaType.ociLayerZstd) : blob(compressed(l, 'gzip'), MediaType.ociLayerGzip)));
    assert.ok(blobs.every((b) => b.data.length > 1024 * 1024), 'the layers are past the worker threshold');
    const config = blob(configJson(layers.map((l) => l.diffId)), MediaType.ociConfig);
    const manifest = ociManifest(config.desc, blobs.map((b) => b.desc));
    const res = await load(store, [OCI_LAYOUT, ...blobs.map(blobEntry), blobEntry(config), blobEntry(manifest), indexJson([manifest.desc])]);
    assert.deepEqual(
      res.layers,
      layers.map((l, i) => ({ digest: blobs[i]!.desc.digest, diffId: l.diffId, unpackedSize: l.unpackedSize })),
    );

    // A lying diff ID among them is still named, whichever way its layer was analysed.
    const lying = blob(configJson(layers.map((l, i) => (i === 3 ? layers[0]!.diffId : l.diffId))), MediaType.ociConfig);
    const lyingManifest = ociManifest(lying.desc, blobs.map((b) => b.desc));
    await loadFails(
      await newStore(),
      [OCI_LAYOUT, ...blobs.map(blobEntry), blobEntry(lying), blobEntry(lyingManifest), indexJson([lyingManifest.desc])],
      new RegExp(`^layer 3 \\(${blobs[3]!.desc.digest}\\) of manifest ${lyingManifest.desc.digest} has diff ID ${layers[3]!.diffId}, but its config lists ${layers[0]!.diffId}$`),
    );
  });

  it('a large layer past --max-unpacked-layer-size is refused as before, gzip or zstd, beside good ones', async () => {
    for (const how of ['gzip', 'zstd'] as const) {
      const layers = await Promise.all([1, 2, 3].map((i) => layer({ [`l${i}/data`]: randomBytes(i === 2 ? 3_000_000 : 1_500_000) })));
      const mediaType = how === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd;
      const blobs = layers.map((l) => blob(compressed(l, how), mediaType));
      const config = blob(configJson(layers.map((l) => l.diffId)), MediaType.ociConfig);
      const manifest = ociManifest(config.desc, blobs.map((b) => b.desc));
      const entries = [OCI_LAYOUT, ...blobs.map(blobEntry), blobEntry(config), blobEntry(manifest), indexJson([manifest.desc])];
      await assert.rejects(
        importArchive(chunked(await buildTar(entries)), await newStore(), { limits: { maxUnpackedLayerSize: 2_000_000 } }),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
          const text = `layer 1 of manifest ${manifest.desc.digest}: ${blobs[1]!.desc.digest}: layer expands to more than 2000000 bytes uncompressed (the limit of --max-unpacked-layer-size)`;
          assert.equal(err.message, text);
          return true;
        },
      );
    }
  });
});
