import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import type { ContentStore } from '../content/content-store.js';
import { LadingError, NotFoundError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import { hostPreferenceMatcher, strictMatcher } from '../oci/platform.js';
import type { Descriptor } from '../oci/types.js';
import { chunked, hexOf, tempStore } from './testing/archive-builder.js';
import { blob, ociManifest, type Blob } from './testing/image-builder.js';
import { buildImage, buildIndex, imageBlobs, indexBlobs } from './testing/sample-images.js';
import { prepareExport, withImageName, type ExportOptions } from './export-archive.js';
import { importArchive } from './import-archive.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

async function storeWith(blobs: Blob[]): Promise<{ store: ContentStore; root: string }> {
  const { store, root, cleanup } = await tempStore();
  cleanups.push(cleanup);
  for (const b of blobs) await store.writeBytes(b.data);
  return { store, root };
}

interface Entry {
  name: string;
  type: string;
  mode: number;
  data: Buffer;
}

async function readTar(data: Buffer): Promise<Entry[]> {
  const extract = tar.extract();
  const entries: Entry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const chunk of entry) parts.push(chunk as Buffer);
      const { name, type, mode } = entry.header;
      entries.push({ name, type: type ?? '', mode: mode ?? 0, data: Buffer.concat(parts) });
    }
  })();
  extract.end(data);
  await done;
  return entries;
}

async function collect(chunks: AsyncGenerator<Buffer>): Promise<{ data: Buffer; largestChunk: number }> {
  const parts: Buffer[] = [];
  let largestChunk = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    largestChunk = Math.max(largestChunk, chunk.length);
  }
  return { data: Buffer.concat(parts), largestChunk };
}

/** Docker's options: every platform, the host's preferred for manifest.json; missing content skipped. */
function dockerOptions(manifests: Descriptor[], extra: Partial<ExportOptions> = {}): ExportOptions {
  return { manifests, platform: AMD64_HOST, skipMissing: true, skipNonDistributable: true, ...extra };
}

const AMD64_HOST = hostPreferenceMatcher({ os: 'linux', architecture: 'amd64' });

async function exportTar(store: ContentStore, options: ExportOptions): Promise<{ data: Buffer; entries: Entry[]; blobs: string[] }> {
  const prepared = await prepareExport(store, options);
  const { data } = await collect(prepared.chunks());
  return { data, entries: await readTar(data), blobs: prepared.blobs };
}

const blobName = (b: Blob | Descriptor): string => `blobs/sha256/${hexOf('desc' in b ? b.desc.digest : b.digest)}`;

describe('prepareExport: the docker save archive', () => {
  it('a named image: entries sorted by name, modes as containerd sets them, index.json and manifest.json as Go writes them', async () => {
    const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'one');
    const { store } = await storeWith(imageBlobs(img));
    const target = withImageName(img.entry, 'docker.io/library/app:1');
    const { entries, data, blobs } = await exportTar(store, dockerOptions([target]));

    const blobNames = imageBlobs(img).map(blobName).sort();
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.mode]),
      [
        ['blobs/', 'directory', 0o755],
        ['blobs/sha256/', 'directory', 0o755],
        ...blobNames.map((n) => [n, 'file', 0o444]),
        ['index.json', 'file', 0o644],
        ['manifest.json', 'file', 0o644],
        ['oci-layout', 'file', 0o444],
      ],
    );
    const file = (name: string): string => entries.find((e) => e.name === name)?.data.toString() ?? '';
    assert.equal(file('oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    assert.equal(
      file('index.json'),
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[' +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${img.manifest.desc.digest}","size":${img.manifest.desc.size},` +
        '"annotations":{"io.containerd.image.name":"docker.io/library/app:1","org.opencontainers.image.ref.name":"1"},' +
        '"platform":{"architecture":"amd64","os":"linux"}}]}',
    );
    assert.equal(
      file('manifest.json'),
      JSON.stringify([{ Config: blobName(img.config), RepoTags: ['app:1'], Layers: img.layerBlobs.map(blobName) }]),
    );
    for (const b of imageBlobs(img)) assert.deepEqual(entries.find((e) => e.name === blobName(b))?.data, b.data);
    assert.deepEqual([...blobs].sort(), imageBlobs(img).map((b) => b.desc.digest).sort());
    assert.equal(data.length % 512, 0);
    assert.deepEqual(data.subarray(-1024), Buffer.alloc(1024), 'ends with two zero blocks');

    // Lading's importer reads it back: same target, same name, same bytes.
    const back = await storeWith([]);
    const imported = await importArchive(chunked(data), back.store);
    assert.deepEqual(imported.images, [{ name: 'docker.io/library/app:1', target }]);
    for (const b of imageBlobs(img)) assert.deepEqual(await back.store.readBytes(b.desc.digest, 1 << 20), b.data);
  });

  it('a multi-platform index: every child that is here; manifest.json names the host platform only', async () => {
    const built = await buildIndex('multi');
    const { store } = await storeWith(indexBlobs(built, { omitArm64: true }));
    const target = withImageName(built.index.desc, 'docker.io/library/multi:1');
    const { entries, data } = await exportTar(store, dockerOptions([target]));

    const expected = indexBlobs(built, { omitArm64: true }).map(blobName).sort();
    assert.deepEqual(entries.filter((e) => e.name.startsWith('blobs/sha256/') && e.type === 'file').map((e) => e.name), expected);
    const manifestJson = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString()) as Array<{ Config: string }>;
    assert.equal(manifestJson.length, 1);
    assert.equal(manifestJson[0]?.Config, blobName(built.amd64.config));

    const back = await storeWith([]);
    const imported = await importArchive(chunked(data), back.store);
    assert.deepEqual(imported.images, [{ name: 'docker.io/library/multi:1', target }]);
  });

  it('several names of one image: one index.json entry each, one manifest.json entry with every tag', async () => {
    const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'names');
    const { store } = await storeWith(imageBlobs(img));
    const targets = ['docker.io/library/app:1', 'localhost:5000/team/app:2'].map((n) => withImageName(img.manifest.desc, n));
    const { entries } = await exportTar(store, dockerOptions(targets));
    const index = JSON.parse(entries.find((e) => e.name === 'index.json')!.data.toString()) as { manifests: Descriptor[] };
    assert.deepEqual(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']), ['1', '2']);
    const manifestJson = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString()) as Array<{ RepoTags: string[] }>;
    assert.deepEqual(manifestJson.map((m) => m.RepoTags), [['app:1', 'localhost:5000/team/app:2']]);
  });

  it('an unnamed image: no annotations, RepoTags null', async () => {
    const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'unnamed');
    const { store } = await storeWith(imageBlobs(img));
    const { entries } = await exportTar(store, dockerOptions([img.manifest.desc]));
    assert.match(entries.find((e) => e.name === 'manifest.json')!.data.toString(), /^\[\{"Config":"[^"]+","RepoTags":null,"Layers":\[/);
    assert.doesNotMatch(entries.find((e) => e.name === 'index.json')!.data.toString(), /annotations/);
  });

  it('a manifest whose layers are not all here goes in alone; non-distributable layers are never written', async () => {
    const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'partial');
    const { store } = await storeWith([img.manifest, img.config, img.layerBlobs[1]!]);
    const { entries } = await exportTar(store, dockerOptions([img.manifest.desc]));
    assert.deepEqual(entries.filter((e) => e.type === 'file' && e.name.startsWith('blobs/')).map((e) => e.name), [blobName(img.manifest)]);

    const foreign = blob(randomBytes(100), MediaType.ociLayerNondistributableGzip);
    const own = blob(randomBytes(100), MediaType.ociLayerGzip);
    const config = blob('{"architecture":"amd64","os":"windows","rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig);
    const manifest = ociManifest(config.desc, [foreign.desc, own.desc]);
    const second = await storeWith([foreign, own, config, manifest]);
    const out = await exportTar(second.store, dockerOptions([manifest.desc]));
    assert.deepEqual(
      out.entries.filter((e) => e.type === 'file' && e.name.startsWith('blobs/')).map((e) => e.name),
      [own, config, manifest].map(blobName).sort(),
    );
    const layers = (JSON.parse(out.entries.find((e) => e.name === 'manifest.json')!.data.toString()) as Array<{ Layers: string[] }>)[0]?.Layers;
    assert.deepEqual(layers, [blobName(foreign), blobName(own)], 'manifest.json still lists it');
  });

  it('nothing to export: an empty index and the layout file only', async () => {
    const { store } = await storeWith([]);
    const { entries } = await exportTar(store, dockerOptions([]));
    assert.deepEqual(entries.map((e) => e.name), ['index.json', 'oci-layout']);
    assert.equal(entries[0]?.data.toString(), '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
  });

  it('a target whose blob is gone is dropped, as containerd drops what it cannot stat', async () => {
    const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'gone');
    const kept = await buildImage({ architecture: 'amd64', os: 'linux' }, 'kept');
    const { store } = await storeWith(imageBlobs(kept));
    const { entries } = await exportTar(store, dockerOptions([img.manifest.desc, kept.manifest.desc]));
    const index = JSON.parse(entries.find((e) => e.name === 'index.json')!.data.toString()) as { manifests: Descriptor[] };
    assert.deepEqual(index.manifests.map((m) => m.digest), [kept.manifest.desc.digest]);
  });

  it('missing content that is needed fails before the first byte', async () => {
    const built = await buildIndex('needed');
    // An index whose child manifest is absent, exported without WithSkipMissing.
    const { store } = await storeWith(indexBlobs(built, { omitArm64: true }));
    await assert.rejects(prepareExport(store, { manifests: [built.index.desc], platform: AMD64_HOST }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.message, `content digest ${built.arm64.manifest.desc.digest}: not found`);
      return true;
    });
    // No child of the platform asked for.
    await assert.rejects(
      prepareExport(store, { manifests: [built.index.desc], platform: strictMatcher({ os: 'linux', architecture: 's390x' }) }),
      { message: 'no manifest found for platform: not found' },
    );
  });

  it("the host's platform absent from an index: manifest.json cannot be written, as in Docker 28", async () => {
    const built = await buildIndex('hostless');
    const att = built.attestation;
    const { store } = await storeWith([built.index, ...imageBlobs(built.arm64), att.manifest, att.config, att.layer]);
    await assert.rejects(prepareExport(store, dockerOptions([built.index.desc])), (err: unknown) => {
      assert.ok(err instanceof LadingError && err.kind === 'not-found', 'a 404');
      assert.equal(err.message, `unable to create manifests file: content digest ${built.amd64.manifest.desc.digest}: not found`);
      return true;
    });
  });

  it('streams each blob in chunks of at most 64 KiB, never whole', async () => {
    const big = blob(randomBytes(3 * 1024 * 1024), MediaType.ociLayer);
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}', MediaType.ociConfig);
    const manifest = ociManifest(config.desc, [big.desc]);
    const { store } = await storeWith([big, config, manifest]);
    const prepared = await prepareExport(store, dockerOptions([manifest.desc]));
    const { data, largestChunk } = await collect(prepared.chunks());
    assert.ok(largestChunk <= 64 * 1024, `largest chunk ${largestChunk} bytes`);
    assert.deepEqual((await readTar(data)).find((e) => e.name === blobName(big))?.data, big.data);
  });

  it('a blob that changed or vanished after planning stops the stream', async () => {
    const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'changed');
    const { store, root } = await storeWith(imageBlobs(img));
    const layerFile = path.join(root, 'blobs', 'sha256', hexOf(img.layerBlobs[0]!.desc.digest));
    const prepared = await prepareExport(store, dockerOptions([img.manifest.desc]));
    chmodSync(layerFile, 0o644);
    writeFileSync(layerFile, Buffer.alloc(img.layerBlobs[0]!.data.length, 1));
    await assert.rejects(collect(prepared.chunks()), { name: 'BlobCorruptError', message: /^content sha256:[0-9a-f]{64} is corrupt in the store \(its bytes hash to sha256:[0-9a-f]{64}\)/ });

    const again = await prepareExport(store, dockerOptions([img.manifest.desc]));
    await store.delete(img.layerBlobs[0]!.desc.digest);
    await assert.rejects(collect(again.chunks()), {
      message: `failed to get reader: content digest ${img.layerBlobs[0]!.desc.digest}: not found`,
    });
  });
});
