import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { BlobInfo, ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { buildTar, chunked, hexOf, sha256, tempStore, zstdStored, type TarEntrySpec } from './testing/archive-builder.js';
import {
  OCI_LAYOUT,
  blob,
  blobEntry,
  compressed,
  configJson,
  indexJson,
  layer,
  ociIndex,
  ociManifest,
  type Layer,
} from './testing/image-builder.js';
import { importArchive, type ImportResult } from './import-archive.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

async function newStore(): Promise<{ store: ContentStore; root: string }> {
  const { store, root, cleanup } = await tempStore();
  cleanups.push(cleanup);
  return { store, root };
}

async function load(
  entries: TarEntrySpec[] | Buffer,
  opts: { store?: ContentStore; maxJsonBytes?: number } = {},
): Promise<ImportResult & { store: ContentStore }> {
  const store = opts.store ?? (await newStore()).store;
  const data = Buffer.isBuffer(entries) ? entries : await buildTar(entries);
  const result = await importArchive(chunked(data), store, { maxJsonBytes: opts.maxJsonBytes });
  return { ...result, store };
}

/** Imports and expects an InvalidArgumentError matching `message`; also checks no write was left open. */
async function loadFails(entries: TarEntrySpec[] | Buffer, message: RegExp | string, maxJsonBytes?: number): Promise<void> {
  const { store, root } = await newStore();
  const data = Buffer.isBuffer(entries) ? entries : await buildTar(entries);
  await assert.rejects(importArchive(chunked(data), store, { maxJsonBytes }), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(readdirSync(path.join(root, 'ingest')), [], 'aborted writes leave nothing in ingest');
}

// ---------------------------------------------------------------- OCI layouts

interface OciImage {
  layer: Layer;
  layerBlob: ReturnType<typeof blob>;
  config: ReturnType<typeof blob>;
  manifest: ReturnType<typeof blob>;
}

async function ociImage(arch = 'amd64', how: 'gzip' | 'none' | 'zstd' = 'gzip'): Promise<OciImage> {
  const l = await layer({ [`etc/${arch}`]: `built for ${arch}\n`, 'bin/app': Buffer.alloc(5000, 3) });
  const mediaType = how === 'gzip' ? MediaType.ociLayerGzip : how === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
  const layerBlob = blob(compressed(l, how), mediaType);
  const config = blob(configJson([l.diffId], { architecture: arch }), MediaType.ociConfig);
  const manifest = ociManifest(config.desc, [layerBlob.desc]);
  return { layer: l, layerBlob, config, manifest };
}

function ociEntries(img: OciImage): TarEntrySpec[] {
  return [blobEntry(img.layerBlob), blobEntry(img.config), blobEntry(img.manifest)];
}

describe('importArchive: OCI layout', () => {
  it('loads a single image named by its containerd annotation, target kept as written', async () => {
    const img = await ociImage();
    const target: Descriptor = {
      ...img.manifest.desc,
      annotations: { 'io.containerd.image.name': 'docker.io/library/busybox:1.36', 'org.opencontainers.image.ref.name': '1.36' },
      platform: { architecture: 'amd64', os: 'linux' },
    };
    const res = await load([OCI_LAYOUT, ...ociEntries(img), indexJson([target])]);
    assert.deepEqual(res.images, [{ name: 'docker.io/library/busybox:1.36', target }]);
    assert.deepEqual(
      res.blobs.map((b) => b.digest).sort(),
      [img.layerBlob.desc.digest, img.config.desc.digest, img.manifest.desc.digest].sort(),
    );
    assert.deepEqual(res.layers, [{ digest: img.layerBlob.desc.digest, diffId: img.layer.diffId, unpackedSize: img.layer.unpackedSize }]);
    for (const b of [img.layerBlob, img.config, img.manifest]) {
      assert.deepEqual(await res.store.readBytes(b.desc.digest, 1 << 20), b.data);
    }
  });

  it('names from org.opencontainers.image.ref.name are normalized; unusable names load untagged', async () => {
    const img = await ociImage();
    const entry = (annotations?: Record<string, string>): Descriptor => ({ ...img.manifest.desc, ...(annotations ? { annotations } : {}) });
    const res = await load([
      OCI_LAYOUT,
      ...ociEntries(img),
      indexJson([
        entry({ 'org.opencontainers.image.ref.name': 'latest' }),
        entry({ 'org.opencontainers.image.ref.name': 'team/app' }),
        entry({ 'org.opencontainers.image.ref.name': 'localhost:5000/x:2' }),
        entry(),
        entry({ 'org.opencontainers.image.ref.name': 'Not/Valid' }),
      ]),
    ]);
    assert.deepEqual(
      res.images.map((i) => i.name),
      ['docker.io/library/latest:latest', 'docker.io/team/app:latest', 'localhost:5000/x:2', undefined, undefined],
    );
    assert.ok(res.images.every((i) => i.target.digest === img.manifest.desc.digest));
    assert.equal('name' in res.images[3]!, false, 'untagged images have no name key');
  });

  it('loads a nested multi-platform index with one platform absent and an attestation', async () => {
    const amd64 = await ociImage('amd64', 'zstd');
    const arm64 = await ociImage('arm64');
    const attLayer = blob('{"_type":"https://in-toto.io/Statement/v0.1"}', 'application/vnd.in-toto+json');
    const attConfig = blob(configJson([attLayer.desc.digest], { architecture: 'unknown', os: 'unknown' }), MediaType.ociConfig);
    const attestation = ociManifest(attConfig.desc, [attLayer.desc]);
    const inner = ociIndex([{ ...amd64.manifest.desc, platform: { architecture: 'amd64', os: 'linux' } }]);
    const top = ociIndex([
      inner.desc,
      { ...arm64.manifest.desc, platform: { architecture: 'arm64', os: 'linux' } },
      {
        ...attestation.desc,
        platform: { architecture: 'unknown', os: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64.manifest.desc.digest },
      },
    ]);
    const target = { ...top.desc, annotations: { 'io.containerd.image.name': 'docker.io/library/multi:1' } };
    const res = await load([
      OCI_LAYOUT,
      indexJson([target]),
      ...ociEntries(amd64),
      blobEntry(inner),
      blobEntry(top),
      blobEntry(attLayer),
      blobEntry(attConfig),
      blobEntry(attestation),
    ]);
    assert.deepEqual(res.images, [{ name: 'docker.io/library/multi:1', target }]);
    assert.deepEqual(res.layers, [{ digest: amd64.layerBlob.desc.digest, diffId: amd64.layer.diffId, unpackedSize: amd64.layer.unpackedSize }]);
    assert.equal(await res.store.has(arm64.manifest.desc.digest), false);
  });

  it('accepts content the store already holds', async () => {
    const img = await ociImage();
    const { store } = await newStore();
    await store.writeBytes(img.layerBlob.data);
    const res = await load([OCI_LAYOUT, blobEntry(img.config), blobEntry(img.manifest), indexJson([img.manifest.desc])], { store });
    assert.equal(res.images.length, 1);
    // Facts of a layer not in the archive are computed from the stored blob.
    assert.deepEqual(res.layers, [{ digest: img.layerBlob.desc.digest, diffId: img.layer.diffId, unpackedSize: img.layer.unpackedSize }]);
    assert.equal(res.blobs.some((b) => b.digest === img.layerBlob.desc.digest), false);
  });

  it('prefers the OCI layout when manifest.json is there too (docker save 25+)', async () => {
    const img = await ociImage('amd64', 'none');
    const target = { ...img.manifest.desc, annotations: { 'io.containerd.image.name': 'docker.io/library/both:1', 'org.opencontainers.image.ref.name': '1' } };
    const manifestJson = JSON.stringify([
      { Config: blobEntry(img.config).name, RepoTags: ['other:2'], Layers: [blobEntry(img.layerBlob).name] },
    ]);
    const res = await load([OCI_LAYOUT, ...ociEntries(img), indexJson([target]), { name: 'manifest.json', data: manifestJson }]);
    assert.deepEqual(res.images, [{ name: 'docker.io/library/both:1', target }]);
    assert.equal(res.blobs.length, 3, 'no manifest synthesized');
  });
});

describe('importArchive: OCI layout errors', () => {
  it('a blob whose content does not match its name', async () => {
    const img = await ociImage();
    const wrongName = `blobs/sha256/${hexOf(img.config.desc.digest)}`;
    await loadFails(
      [OCI_LAYOUT, { name: wrongName, data: img.layerBlob.data }, indexJson([img.manifest.desc])],
      `blob ${wrongName} in the archive has digest ${img.layerBlob.desc.digest}, but its name says ${img.config.desc.digest}`,
    );
  });

  it('a missing top-level manifest', async () => {
    const img = await ociImage();
    await loadFails([OCI_LAYOUT, blobEntry(img.config), blobEntry(img.layerBlob), indexJson([img.manifest.desc])], new RegExp(`content ${img.manifest.desc.digest} is missing from the archive`));
  });

  it('a manifest present without its layer', async () => {
    const img = await ociImage();
    await loadFails(
      [OCI_LAYOUT, blobEntry(img.config), blobEntry(img.manifest), indexJson([img.manifest.desc])],
      new RegExp(`layer 0 of manifest ${img.manifest.desc.digest}: content ${img.layerBlob.desc.digest} is missing`),
    );
  });

  it('a child manifest that is present must be complete', async () => {
    const img = await ociImage();
    const idx = ociIndex([img.manifest.desc]);
    await loadFails(
      [OCI_LAYOUT, blobEntry(img.layerBlob), blobEntry(img.manifest), blobEntry(idx), indexJson([idx.desc])],
      new RegExp(`config of manifest ${img.manifest.desc.digest}: content ${img.config.desc.digest} is missing`),
    );
  });

  it('a child manifest may lack content where mustBeWhole lets it (Docker 28: WithSkipMissing)', async () => {
    const [amd, arm] = [await ociImage('amd64'), await ociImage('arm64')];
    const descs = [amd, arm].map((img, i) => ({ ...img.manifest.desc, platform: { os: 'linux', architecture: i ? 'arm64' : 'amd64' } }));
    const idx = ociIndex(descs);
    const entries = [OCI_LAYOUT, ...ociEntries(amd), blobEntry(arm.config), blobEntry(arm.manifest), blobEntry(idx), indexJson([idx.desc])];
    const data = await buildTar(entries);
    const { store } = await newStore();
    const mustBeWhole = (m: Descriptor): boolean => m.platform?.architecture === 'amd64';
    const result = await importArchive(chunked(data), store, { mustBeWhole });
    assert.deepEqual(result.images.map((i) => i.target.digest), [idx.desc.digest]);
    assert.equal(await store.has(arm.layerBlob.desc.digest), false);
    await assert.rejects(importArchive(chunked(data), (await newStore()).store), /content .* is missing from the archive/);
  });

  it('a layer whose diffID is not the one in the config', async () => {
    const img = await ociImage();
    const other = await layer({ other: 'x' });
    const config = blob(configJson([other.diffId]), MediaType.ociConfig);
    const manifest = ociManifest(config.desc, [img.layerBlob.desc]);
    await loadFails(
      [OCI_LAYOUT, blobEntry(img.layerBlob), blobEntry(config), blobEntry(manifest), indexJson([manifest.desc])],
      `layer 0 (${img.layerBlob.desc.digest}) of manifest ${manifest.desc.digest} has diff ID ${img.layer.diffId}, but its config lists ${other.diffId}`,
    );
  });

  it('large layers (analysed on the worker thread) give the same facts and the same errors', async () => {
    // Random bytes do not compress: each gzip layer is past the 1 MiB from which the worker analyses it.
    const layers = [await layer({ 'a/one': randomBytes(1_600_000), 'a/small': 'x\n' }), await layer({ 'b/two': randomBytes(1_600_000) })];
    const blobs = layers.map((l) => blob(compressed(l, 'gzip'), MediaType.ociLayerGzip));
    assert.ok(blobs.every((b) => b.data.length > 1024 * 1024), 'the layers are past the worker threshold');
    const config = blob(configJson(layers.map((l) => l.diffId)), MediaType.ociConfig);
    const manifest = ociManifest(config.desc, blobs.map((b) => b.desc));
    const res = await load([OCI_LAYOUT, ...blobs.map(blobEntry), blobEntry(config), blobEntry(manifest), indexJson([manifest.desc])]);
    assert.deepEqual(
      res.layers,
      layers.map((l, i) => ({ digest: blobs[i]!.desc.digest, diffId: l.diffId, unpackedSize: l.unpackedSize })),
    );

    // The second layer cut short: its gzip stream ends early.
    const cutData = blobs[1]!.data.subarray(0, blobs[1]!.data.length - 100);
    const cut = blob(cutData, MediaType.ociLayerGzip);
    const badManifest = ociManifest(config.desc, [blobs[0]!.desc, cut.desc]);
    await loadFails(
      [OCI_LAYOUT, blobEntry(blobs[0]!), blobEntry(cut), blobEntry(config), blobEntry(badManifest), indexJson([badManifest.desc])],
      new RegExp(`^layer 1 of manifest ${badManifest.desc.digest}: ${cut.desc.digest} is not a readable layer: unexpected end of file$`),
    );
  });

  it('an unsupported media type at the top', async () => {
    const img = await ociImage();
    await loadFails([OCI_LAYOUT, ...ociEntries(img), indexJson([img.layerBlob.desc])], /unsupported media type application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip/);
  });

  it('oci-layout problems: version, index.json, JSON', async () => {
    await loadFails([{ name: 'oci-layout', data: '{"imageLayoutVersion":"2.0.0"}' }, indexJson([])], 'unsupported OCI version 2.0.0');
    await loadFails([OCI_LAYOUT], 'missing index.json in OCI layout 1.0.0');
    await loadFails([{ name: 'oci-layout', data: '{"imageLayoutVersion":' }], /^invalid JSON in oci-layout: /);
    await loadFails([OCI_LAYOUT, { name: 'index.json', data: '{"manifests": [' }], /^invalid JSON in index.json: /);
  });

  it('a manifest blob that is not JSON', async () => {
    const junk = blob('this is not json', MediaType.ociManifest);
    await loadFails([OCI_LAYOUT, blobEntry(junk), indexJson([junk.desc])], new RegExp(`^invalid JSON in manifest ${junk.desc.digest}: `));
  });

  it('a manifest larger than maxJsonBytes', async () => {
    const img = await ociImage();
    await loadFails([OCI_LAYOUT, ...ociEntries(img), indexJson([img.manifest.desc])], /more than the limit of 200/, 200);
  });
});

// ---------------------------------------------------------------- docker-archive

const EMPTY_TAR = Buffer.alloc(1024);
const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** A docker save of the legacy layout: `<id>/layer.tar`, a repeated layer as a symlink. */
async function legacyArchive(opts: { repoTags: string[] | null; gzipLayer?: boolean; diffIds?: string[] }) {
  const l = await layer({ 'etc/motd': 'hello from a legacy archive\n' });
  const layerData = opts.gzipLayer ? gzipSync(l.tar) : l.tar;
  const config = blob(configJson(opts.diffIds ?? [l.diffId, l.diffId], { architecture: 'aarch64', variant: 'v8', 'os.version': '' }), MediaType.dockerConfig);
  const id1 = 'a'.repeat(64);
  const id2 = 'b'.repeat(64);
  const configName = `${hexOf(config.desc.digest)}.json`;
  const entries: TarEntrySpec[] = [
    { name: `${id1}/`, type: 'directory' },
    { name: `${id1}/VERSION`, data: '1.0' },
    { name: `${id1}/json`, data: '{"id":"' + id1 + '"}' },
    { name: `${id1}/layer.tar`, data: layerData },
    { name: `${id2}/`, type: 'directory' },
    { name: `${id2}/layer.tar`, type: 'symlink', linkname: `../${id1}/layer.tar` },
    { name: configName, data: config.data },
    {
      name: 'manifest.json',
      data: JSON.stringify([{ Config: configName, RepoTags: opts.repoTags, Layers: [`${id1}/layer.tar`, `${id2}/layer.tar`] }]),
    },
    { name: 'repositories', data: '{"busybox":{"1.36":"' + id2 + '"}}' },
  ];
  const layerDesc = { digest: sha256(layerData), size: layerData.length };
  return { entries, l, layerData, layerDesc, config, configName, id1, id2 };
}

/** The manifest containerd writes for it, spelled out as Go's json.Marshal prints it. */
function expectedManifest(config: Descriptor, layers: Array<{ mediaType: string; digest: string; size: number }>): string {
  const desc = (d: { mediaType: string; digest: string; size: number }): string =>
    `{"mediaType":"${d.mediaType}","digest":"${d.digest}","size":${d.size}}`;
  return (
    '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",' +
    `"config":${desc({ ...config, mediaType: MediaType.dockerConfig })},"layers":[${layers.map(desc).join(',')}]}`
  );
}

describe('importArchive: docker-archive', () => {
  it('legacy layout with a symlinked layer and two RepoTags', async () => {
    const a = await legacyArchive({ repoTags: ['busybox:1.36', 'example.com:5000/team/app:v1'] });
    const res = await load(a.entries);
    const layerDesc = { mediaType: MediaType.dockerLayer, ...a.layerDesc };
    const manifest = expectedManifest(a.config.desc, [layerDesc, layerDesc]);
    const target = { mediaType: MediaType.dockerManifest, digest: sha256(manifest), size: Buffer.byteLength(manifest) };
    const platform = { architecture: 'arm64', os: 'linux' };
    assert.deepEqual(res.images, [
      {
        name: 'docker.io/library/busybox:1.36',
        target: { ...target, annotations: { 'io.containerd.image.name': 'docker.io/library/busybox:1.36', 'org.opencontainers.image.ref.name': '1.36' }, platform },
      },
      {
        name: 'example.com:5000/team/app:v1',
        target: { ...target, annotations: { 'io.containerd.image.name': 'example.com:5000/team/app:v1', 'org.opencontainers.image.ref.name': 'v1' }, platform },
      },
    ]);
    // Go's field order in the target descriptor: mediaType, digest, size, annotations, platform.
    assert.deepEqual(Object.keys(res.images[0]!.target), ['mediaType', 'digest', 'size', 'annotations', 'platform']);
    assert.equal((await res.store.readBytes(target.digest)).toString(), manifest);
    assert.ok(res.blobs.some((b) => b.digest === target.digest), 'the synthesized manifest is among the committed blobs');
    assert.deepEqual(res.layers, [{ digest: a.layerDesc.digest, diffId: a.l.diffId, unpackedSize: a.l.unpackedSize }]);
  });

  it('untagged archive: one image without a name, gzip layer typed as such', async () => {
    const a = await legacyArchive({ repoTags: null, gzipLayer: true });
    const res = await load(a.entries);
    const layerDesc = { mediaType: MediaType.dockerLayerGzip, ...a.layerDesc };
    const manifest = expectedManifest(a.config.desc, [layerDesc, layerDesc]);
    assert.deepEqual(res.images, [
      { target: { mediaType: MediaType.dockerManifest, digest: sha256(manifest), size: manifest.length, platform: { architecture: 'arm64', os: 'linux' } } },
    ]);
    assert.deepEqual(res.layers, [{ digest: a.layerDesc.digest, diffId: a.l.diffId, unpackedSize: a.l.unpackedSize }]);
  });

  it('synthesizes the same manifest bytes as containerd (digest computed independently)', async () => {
    // Config and layer fixed byte for byte, so the digest is a constant computed outside this code base
    // (Python: json.dumps(..., separators=(",", ":")) then sha256).
    const config = '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["' + EMPTY_TAR_DIFF_ID + '"]}}';
    const entries: TarEntrySpec[] = [
      { name: 'layer/layer.tar', data: EMPTY_TAR },
      { name: 'config.json', data: config },
      { name: 'manifest.json', data: '[{"Config":"config.json","RepoTags":["fixed:1"],"Layers":["layer/layer.tar"]}]' },
    ];
    const first = await load(entries);
    const second = await load(entries);
    const digest = 'sha256:88cffdde6bcf3a0868488d5fc1846a04e33672edbfc6383cfc56e0df6dbecef4';
    assert.equal(first.images[0]!.target.digest, digest);
    assert.equal(first.images[0]!.target.size, 419);
    assert.equal(second.images[0]!.target.digest, digest);
    assert.equal(
      (await first.store.readBytes(digest)).toString(),
      '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:83656ea199d8d74b56ef7fe4a0bef9dd10aa412ec632f8ccdf3e0c903471c0a2","size":151},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"' +
        EMPTY_TAR_DIFF_ID +
        '","size":1024}]}',
    );
    assert.deepEqual(first.layers, [{ digest: EMPTY_TAR_DIFF_ID, diffId: EMPTY_TAR_DIFF_ID, unpackedSize: 0 }]);
  });

  it('zstd layers are typed as OCI zstd layers', async () => {
    const l = await layer({ f: 'zstd content' });
    const data = zstdStored(l.tar);
    const config = configJson([l.diffId]);
    const res = await load([
      { name: 'l.tar.zst', data },
      { name: 'c.json', data: config },
      { name: 'manifest.json', data: '[{"Config":"c.json","RepoTags":["z:1"],"Layers":["l.tar.zst"]}]' },
    ]);
    const manifest = expectedManifest(blob(config, '').desc, [{ mediaType: MediaType.ociLayerZstd, digest: sha256(data), size: data.length }]);
    assert.equal(res.images[0]!.target.digest, sha256(manifest));
  });

  it('layers named blobs/sha256/<hex> may come from the store', async () => {
    const { store } = await newStore();
    const l = await layer({ f: 'already here' });
    await store.writeBytes(l.tar);
    const res = await load(
      [
        { name: 'c.json', data: configJson([l.diffId]) },
        { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [`blobs/sha256/${hexOf(l.diffId)}`] }]) },
      ],
      { store },
    );
    assert.equal(res.images.length, 1);
    assert.deepEqual(res.layers, [{ digest: l.diffId, diffId: l.diffId, unpackedSize: l.unpackedSize }]);
  });

  it('the request body may be gzip- or zstd-compressed', async () => {
    const a = await legacyArchive({ repoTags: ['busybox:1.36'] });
    const plain = await buildTar(a.entries);
    const expected = (await load(plain)).images;
    assert.deepEqual((await load(gzipSync(plain))).images, expected);
    assert.deepEqual((await load(zstdStored(plain))).images, expected);
  });

  it('hard links alias layers too; a Readable works as the body', async () => {
    const a = await legacyArchive({ repoTags: ['busybox:1.36'] });
    const hard = a.entries.map((e) => (e.name === `${a.id2}/layer.tar` ? { ...e, type: 'link' as const, linkname: `${a.id1}/layer.tar` } : e));
    const viaSymlink = await load(a.entries);
    const store = (await newStore()).store;
    const viaHardlink = await importArchive(Readable.from([await buildTar(hard)]), store);
    assert.deepEqual(viaHardlink.images, viaSymlink.images);
  });

  it('reports each blob as it is committed, so a failed load can be rolled back', async () => {
    const a = await legacyArchive({ repoTags: ['x:1'], diffIds: [EMPTY_TAR_DIFF_ID, EMPTY_TAR_DIFF_ID] });
    const { store } = await newStore();
    const seen: BlobInfo[] = [];
    await assert.rejects(
      importArchive(chunked(await buildTar(a.entries)), store, { onBlobCommitted: (b) => seen.push(b) }),
      InvalidArgumentError,
    );
    const digests = seen.map((b) => b.digest);
    assert.ok(digests.includes(a.layerDesc.digest) && digests.includes(a.config.desc.digest));
    for (const digest of digests) assert.equal(await store.has(digest), true);
  });
});

describe('importArchive: docker-archive errors', () => {
  it('a lying diff_id names both digests', async () => {
    const a = await legacyArchive({ repoTags: ['x:1'], diffIds: [EMPTY_TAR_DIFF_ID, EMPTY_TAR_DIFF_ID] });
    await loadFails(a.entries, new RegExp(`^layer 0 \\(${a.layerDesc.digest}\\) of manifest sha256:[0-9a-f]{64} has diff ID ${a.l.diffId}, but its config lists ${EMPTY_TAR_DIFF_ID}$`));
  });

  it('fewer diff_ids than layers', async () => {
    const a = await legacyArchive({ repoTags: ['x:1'], diffIds: [] });
    await loadFails(a.entries, /has 2 layers but its config sha256:[0-9a-f]{64} lists 0 diff IDs/);
  });

  it('missing config, missing layer, link out of the archive', async () => {
    const a = await legacyArchive({ repoTags: ['x:1'] });
    await loadFails(a.entries.filter((e) => e.name !== a.configName), `image config ${JSON.stringify(a.configName)} not found`);
    const manifestOf = (layers: string[]): TarEntrySpec => ({
      name: 'manifest.json',
      data: JSON.stringify([{ Config: a.configName, RepoTags: [], Layers: layers }]),
    });
    const withManifest = (layers: string[], keep: (e: TarEntrySpec) => boolean = () => true): TarEntrySpec[] =>
      a.entries.filter(keep).map((e) => (e.name === 'manifest.json' ? manifestOf(layers) : e));
    await loadFails(
      withManifest([`${a.id2}/layer.tar`], (e) => e.name !== `${a.id1}/layer.tar`),
      `no target for symlink layer from "${a.id2}/layer.tar" to "${a.id1}/layer.tar"`,
    );
    const escaping = a.entries.map((e) => (e.name === `${a.id2}/layer.tar` ? { ...e, linkname: '../../etc/passwd' } : e));
    await loadFails(escaping, /link "b{64}\/layer.tar" points outside the archive \("..\/..\/etc\/passwd"\)/);
    await loadFails(withManifest(['nope/layer.tar']), 'layer "nope/layer.tar" not found');
  });

  it('a RepoTag that is no reference', async () => {
    const a = await legacyArchive({ repoTags: ['UPPER:1'] });
    await loadFails(a.entries, /^normalize image ref "UPPER:1": invalid reference format/);
  });

  it('bad JSON: manifest.json, a config', async () => {
    await loadFails([{ name: 'manifest.json', data: '[{"Config":' }], /^invalid JSON in manifest.json: /);
    await loadFails([{ name: 'manifest.json', data: '{"Config":"c"}' }], 'invalid manifest.json: not a JSON list');
    await loadFails(
      [
        { name: 'c.json', data: '{not json' },
        { name: 'manifest.json', data: '[{"Config":"c.json","RepoTags":[],"Layers":[]}]' },
      ],
      /^invalid JSON in image config c.json: /,
    );
    await loadFails([{ name: 'repositories', data: '{' }, { name: 'manifest.json', data: '[]' }], /^invalid JSON in repositories: /);
  });

  it('manifest.json larger than maxJsonBytes', async () => {
    await loadFails([{ name: 'manifest.json', data: '[' + ' '.repeat(300) + ']' }], 'manifest.json in the archive is 302 bytes, more than the limit of 100', 100);
  });
});

describe('importArchive: the archive itself', () => {
  it('neither oci-layout nor manifest.json', async () => {
    await loadFails([{ name: 'hello.txt', data: 'hi' }], 'unrecognized image format');
    await loadFails(Buffer.alloc(0), 'unrecognized image format');
  });

  it('an xz body that is not xz data past its magic is a 400 saying so', async () => {
    const { store } = await newStore();
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(100)]);
    await assert.rejects(importArchive(chunked(xz), store), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, String(err));
      assert.match(err.message, /^failed to decompress xz archive: /);
      return true;
    });
  });

  it('not a tar: Go\'s archive/tar text, as Docker prints it', async () => {
    await loadFails(Buffer.from('this is not a tar archive, just words\n'.repeat(40)), /^archive\/tar: invalid tar header$/);
  });

  it('a truncated tar and a truncated gzip body', async () => {
    const a = await legacyArchive({ repoTags: ['x:1'] });
    const plain = await buildTar(a.entries);
    const cut = plain.indexOf(a.layerData) + 700; // inside the layer
    await loadFails(plain.subarray(0, cut), /^unexpected EOF$/);
    const gz = gzipSync(plain);
    await loadFails(gz.subarray(0, gz.length - 50), /^failed to decompress gzip archive: /);
    await loadFails(zstdStored(plain).subarray(0, 5000), /^failed to decompress zstd archive: zstd: unexpected EOF/);
  });

  it('entry names that leave the archive are refused before their data is stored', async () => {
    const secret = 'data behind a bad name';
    for (const name of ['../x', 'a/../../x', '/etc/passwd']) {
      const { store } = await newStore();
      const data = await buildTar([{ name: 'ok.txt', data: 'fine' }, { name, data: secret }, { name: 'manifest.json', data: '[]' }]);
      await assert.rejects(importArchive(chunked(data), store), (err: Error) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.equal(err.message, `invalid archive entry name: ${JSON.stringify(name)}`);
        return true;
      });
      assert.equal(await store.has(sha256(secret)), false);
      assert.equal(await store.has(sha256('fine')), true);
    }
  });
});
