import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ContentStore } from '../content/content-store.js';
import { InvalidArgumentError, LadingError, NotFoundError } from '../errors.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor, Platform } from '../oci/types.js';
import { sha256, tempStore } from '../archive/testing/archive-builder.js';
import { layersSize } from './disk-usage.js';
import { parseFilters } from '../filters/filter-args.js';
import type { ImageSummary } from './explorer-api-types.js';
import { chainIds, type ListOptions } from './image-list.js';
import { danglingName } from './image-names.js';
import { ImageService } from './image-service.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

interface LayerSpec {
  data: string;
  unpacked: number;
}

interface ImageSpec {
  layers: LayerSpec[];
  created?: string;
  /** `undefined` leaves the key out; null writes `"Labels": null`. */
  labels?: Record<string, string> | null;
  platform?: Platform;
}

/** A content store that counts existence checks, to see what the list reads. */
function counting(store: ContentStore): { store: ContentStore; hasCalls: () => number } {
  let calls = 0;
  const wrapped = Object.create(store) as ContentStore;
  wrapped.has = (digest: string) => {
    calls++;
    return store.has(digest);
  };
  return { store: wrapped, hasCalls: () => calls };
}

async function env() {
  const { store: raw, cleanup } = await tempStore();
  cleanups.push(cleanup);
  const { store, hasCalls } = counting(raw);
  const metadata = new SqliteMetadataStore(':memory:');
  const service = new ImageService(store, metadata);
  let clock = 0;

  const blob = async (data: string | Buffer, mediaType: string, extra: Partial<Descriptor> = {}): Promise<Descriptor> => {
    const info = await raw.writeBytes(Buffer.from(data));
    return { mediaType, digest: info.digest, size: info.size, ...extra };
  };
  /** Describes a blob without storing it. */
  const absent = (data: string, mediaType: string): Descriptor => ({ mediaType, digest: sha256(data), size: Buffer.byteLength(data) });

  async function manifest(spec: ImageSpec, opts: { store?: boolean } = {}): Promise<Descriptor> {
    const put = opts.store === false ? async (d: string, m: string) => absent(d, m) : (d: string, m: string) => blob(d, m);
    const layers: Descriptor[] = [];
    for (const l of spec.layers) {
      const desc = await put(l.data, MediaType.ociLayer);
      await metadata.putLayerFacts({ digest: desc.digest, diffId: desc.digest, unpackedSize: l.unpacked });
      layers.push(desc);
    }
    const config = {
      ...(spec.created ? { created: spec.created } : {}),
      architecture: spec.platform?.architecture ?? 'amd64',
      os: spec.platform?.os ?? 'linux',
      ...(spec.platform?.variant ? { variant: spec.platform.variant } : {}),
      config: { Cmd: ['/bin/sh'], ...(spec.labels !== undefined ? { Labels: spec.labels } : {}) },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    };
    const configDesc = await put(JSON.stringify(config), MediaType.ociConfig);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers });
    const desc = await put(body, MediaType.ociManifest);
    return spec.platform ? { ...desc, platform: spec.platform } : desc;
  }

  async function index(children: Descriptor[]): Promise<Descriptor> {
    return blob(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children }), MediaType.ociIndex);
  }

  async function name(ref: string, target: Descriptor): Promise<void> {
    const at = new Date(Date.UTC(2020, 0, 1, 0, 0, clock++)).toISOString();
    await metadata.putImage({ name: ref, target, createdAt: at, updatedAt: at });
  }

  async function list(opts: Partial<Omit<ListOptions, 'filters'>> & { filters?: string } = {}): Promise<ImageSummary[]> {
    return service.list({
      all: false,
      sharedSize: opts.sharedSize ?? false,
      manifests: opts.manifests ?? false,
      filters: parseFilters(opts.filters ?? ''),
    });
  }

  return { service, metadata, raw, hasCalls, manifest, index, name, list, blob };
}

const base: LayerSpec = { data: 'base layer', unpacked: 1000 };
const names = (images: ImageSummary[]): Array<string[] | null> => images.map((i) => i.repoTags);

describe('image list', () => {
  it('one entry per target, newest Created first, ties by Id', async () => {
    const e = await env();
    const old = await e.manifest({ layers: [base], created: '2020-01-01T00:00:00Z' });
    const mid = await e.manifest({ layers: [{ data: 'm', unpacked: 1 }], created: '2023-06-01T12:00:00.999Z' });
    const none = await e.manifest({ layers: [{ data: 'n', unpacked: 1 }] });
    const twinA = await e.manifest({ layers: [{ data: 'a', unpacked: 1 }], created: '2024-01-01T00:00:00Z' });
    const twinB = await e.manifest({ layers: [{ data: 'b', unpacked: 1 }], created: '2024-01-01T00:00:00.5Z' });
    await e.name('docker.io/library/old:1', old);
    await e.name('docker.io/library/old:2', old);
    await e.name('docker.io/library/mid:1', mid);
    await e.name('docker.io/library/none:1', none);
    await e.name('docker.io/library/twin:a', twinA);
    await e.name('docker.io/library/twin:b', twinB);
    const images = await e.list();
    const twins = [twinA, twinB].sort((x, y) => (x.digest < y.digest ? -1 : 1)).map((d) => d.digest);
    assert.deepEqual(
      images.map((i) => i.id),
      [...twins, mid.digest, old.digest, none.digest],
    );
    assert.deepEqual(
      images.map((i) => i.created),
      [1704067200, 1704067200, 1685620800, 1577836800, 0],
    );
    assert.deepEqual(images.find((i) => i.id === old.digest)?.repoTags, ['old:1', 'old:2']);
  });

  it('RepoTags: every name, sorted by full name; RepoDigests: the last name’s repository only (Docker 28)', async () => {
    const e = await env();
    const img = await e.manifest({ layers: [base], created: '2024-01-01T00:00:00Z', labels: { a: 'b' } });
    await e.name('localhost:5000/lab/app:v1', img);
    await e.name('docker.io/library/busybox:latest', img);
    await e.name('docker.io/user/app:1', img);
    const [summary] = await e.list();
    assert.deepEqual(summary?.repoTags, ['busybox:latest', 'user/app:1', 'localhost:5000/lab/app:v1']);
    assert.deepEqual(summary?.repoDigests, [`localhost:5000/lab/app@${img.digest}`]);
    assert.equal(summary?.containers, 0);
    assert.equal(summary?.parentId, '');
    assert.deepEqual(summary?.labels, { a: 'b' });
    assert.deepEqual(summary?.descriptor, img);
  });

  it('a dangling image has null RepoTags and RepoDigests; a digested name is a tag too', async () => {
    const e = await env();
    const dangling = await e.manifest({ layers: [{ data: 'd', unpacked: 1 }] });
    await e.name(danglingName(dangling.digest), dangling);
    const digested = await e.manifest({ layers: [{ data: 'x', unpacked: 1 }] });
    await e.name(`docker.io/library/pinned@${digested.digest}`, digested);
    const images = await e.list();
    const d = images.find((i) => i.id === dangling.digest);
    assert.equal(d?.repoTags, null);
    assert.equal(d?.repoDigests, null);
    const p = images.find((i) => i.id === digested.digest);
    assert.deepEqual(p?.repoTags, [`pinned@${digested.digest}`]);
    assert.deepEqual(p?.repoDigests, [`pinned@${digested.digest}`]);
  });

  it('Labels: null without the key or with null, {} when empty', async () => {
    const e = await env();
    const specs: Array<[string, ImageSpec['labels']]> = [['absent', undefined], ['nulled', null], ['empty', {}]];
    for (const [tag, labels] of specs) {
      await e.name(`docker.io/library/labels:${tag}`, await e.manifest({ layers: [{ data: tag, unpacked: 1 }], labels }));
    }
    const byTag = new Map((await e.list()).map((i) => [i.repoTags?.[0], i.labels]));
    assert.equal(byTag.get('labels:absent'), null);
    assert.equal(byTag.get('labels:nulled'), null);
    assert.deepEqual(byTag.get('labels:empty'), {});
  });

  it('Size: content and unpacked bytes of every manifest; a platform without blobs adds nothing', async () => {
    const e = await env();
    const amd64 = await e.manifest({ layers: [base, { data: 'amd', unpacked: 10 }], platform: { os: 'linux', architecture: 'amd64' }, created: '2025-01-01T00:00:00Z', labels: { p: 'amd64' } });
    const arm64 = await e.manifest({ layers: [{ data: 'arm', unpacked: 20 }], platform: { os: 'linux', architecture: 'arm64' }, labels: { p: 'arm64' } });
    const missing = await e.manifest({ layers: [{ data: 'gone', unpacked: 30 }], platform: { os: 'linux', architecture: 's390x' } }, { store: false });
    const idx = await e.index([amd64, arm64, missing]);
    await e.name('docker.io/library/multi:1', idx);
    const [summary] = await e.list({ manifests: true });
    const m = summary?.manifests ?? [];
    assert.deepEqual(m.map((x) => [x.id, x.available]), [[amd64.digest, true], [arm64.digest, true], [missing.digest, false]]);
    assert.equal(summary?.size, m.reduce((n, x) => n + x.totalSize, 0));
    assert.equal(m[2]?.totalSize, 0);
    assert.equal(m[0]?.totalSize, (m[0]?.contentSize ?? 0) + 1010);
    assert.deepEqual(summary?.labels, { p: 'amd64' }, 'labels of the host platform');
    assert.equal(summary?.created, 1735689600);
    assert.equal((await e.list())[0]?.manifests, undefined, 'Manifests only when asked');
  });

  it('no available platform: the bare digest as RepoDigest, Containers -1, Created 0', async () => {
    const e = await env();
    const gone = await e.manifest({ layers: [{ data: 'gone', unpacked: 3 }], platform: { os: 'linux', architecture: 'amd64' } }, { store: false });
    const idx = await e.index([gone]);
    await e.name('docker.io/library/hollow:1', idx);
    const [summary] = await e.list();
    assert.deepEqual(summary, {
      id: idx.digest,
      parentId: '',
      size: 0,
      sharedSize: -1,
      descriptor: idx,
      repoTags: ['hollow:1'],
      repoDigests: [idx.digest],
      created: 0,
      labels: null,
      containers: -1,
    });
  });

  it('shared size: layers (by chain ID) other listed images hold too, at their unpacked size', async () => {
    const e = await env();
    const a = await e.manifest({ layers: [base, { data: 'a-top', unpacked: 7 }], created: '2024-01-02T00:00:00Z' });
    const b = await e.manifest({ layers: [base, { data: 'b-top', unpacked: 9 }], created: '2024-01-01T00:00:00Z' });
    const c = await e.manifest({ layers: [{ data: 'c-only', unpacked: 5 }] });
    // Same layers, other order: the chain differs from the first layer on, so nothing is shared.
    const d = await e.manifest({ layers: [{ data: 'a-top', unpacked: 7 }, base] });
    await e.name('docker.io/library/a:1', a);
    await e.name('docker.io/library/b:1', b);
    await e.name('docker.io/library/c:1', c);
    await e.name('docker.io/library/d:1', d);
    const shared = new Map((await e.list({ sharedSize: true })).map((i) => [i.repoTags?.[0], i.sharedSize]));
    assert.deepEqual(Object.fromEntries(shared), { 'a:1': 1000, 'b:1': 1000, 'c:1': 0, 'd:1': 0 });
    assert.ok((await e.list()).every((i) => i.sharedSize === -1));
    // Among the listed images only: alone, a shares nothing.
    const alone = await e.list({ sharedSize: true, filters: '{"reference":["a"]}' });
    assert.deepEqual(alone.map((i) => i.sharedSize), [0]);
  });

  it('chain IDs as identity.ChainIDs', () => {
    const d1 = 'sha256:' + '1'.repeat(64);
    const d2 = 'sha256:' + '2'.repeat(64);
    assert.deepEqual(chainIds([d1, d2]), [d1, sha256(`${d1} ${d2}`)]);
  });

  it('filters: reference keeps only matching names; dangling; label; before/since; until', async () => {
    const e = await env();
    const one = await e.manifest({ layers: [{ data: '1', unpacked: 1 }], created: '2021-01-01T00:00:00Z', labels: { tier: 'web', env: 'prod' } });
    const two = await e.manifest({ layers: [{ data: '2', unpacked: 1 }], created: '2022-01-01T00:00:00Z', labels: { tier: 'db' } });
    const three = await e.manifest({ layers: [{ data: '3', unpacked: 1 }], created: '2023-01-01T00:00:00Z' });
    const loose = await e.manifest({ layers: [{ data: '4', unpacked: 1 }], created: '2024-01-01T00:00:00Z' });
    await e.name('docker.io/library/web:1', one);
    await e.name('docker.io/library/web:latest', one);
    await e.name('docker.io/library/other:1', one);
    await e.name('docker.io/library/db:1', two);
    await e.name('docker.io/user/tool:1', three);
    await e.name(danglingName(loose.digest), loose);

    assert.deepEqual(names(await e.list({ filters: '{"reference":["web"]}' })), [['web:1', 'web:latest']]);
    assert.deepEqual(names(await e.list({ filters: '{"reference":["web:1","db"]}' })), [['db:1'], ['web:1']]);
    assert.deepEqual(names(await e.list({ filters: '{"reference":{"*/*":true}}' })), [['user/tool:1']]);
    assert.deepEqual(names(await e.list({ filters: '{"dangling":["true"]}' })), [null]);
    assert.equal((await e.list({ filters: '{"dangling":["false"]}' })).length, 3);
    assert.deepEqual(names(await e.list({ filters: '{"label":["tier"]}' })), [['db:1'], ['other:1', 'web:1', 'web:latest']]);
    assert.deepEqual(names(await e.list({ filters: '{"label":["tier=web","env=prod"]}' })), [['other:1', 'web:1', 'web:latest']]);
    assert.deepEqual(names(await e.list({ filters: '{"label":["tier!=web"]}' })), [['db:1']]);
    assert.deepEqual(names(await e.list({ filters: '{"label!":["tier"]}' })), [null, ['user/tool:1']]);
    assert.deepEqual(names(await e.list({ filters: '{"before":["db:1"]}' })), [['other:1', 'web:1', 'web:latest']]);
    assert.deepEqual(names(await e.list({ filters: '{"since":["db:1"]}' })), [null, ['user/tool:1']]);
    assert.deepEqual(names(await e.list({ filters: '{"since":["web:1"],"before":["user/tool:1"]}' })), [['db:1']]);
    assert.deepEqual(names(await e.list({ filters: JSON.stringify({ before: [one.digest] }) })), []);
    // until compares when the records were made (one second apart here, from 2020-01-01T00:00:00Z).
    assert.deepEqual(names(await e.list({ filters: '{"until":["2020-01-01T00:00:03Z"]}' })), [['other:1', 'web:1', 'web:latest']]);
    assert.deepEqual(names(await e.list({ filters: '{"until":["2020-01-01T00:00:04Z"]}' })), [['db:1'], ['other:1', 'web:1', 'web:latest']]);
    assert.equal((await e.list({ filters: '{"until":["1h"]}' })).length, 4);
  });

  it('filter errors: Docker’s texts and kinds, in Docker’s order', async () => {
    const e = await env();
    await e.name('docker.io/library/x:1', await e.manifest({ layers: [base] }));
    const fails = async (filters: string, kind: abstract new (...args: never[]) => Error, message: string): Promise<void> => {
      await assert.rejects(e.list({ filters }), (err: unknown) => {
        assert.ok(err instanceof kind, `${filters}: ${String(err)}`);
        assert.equal((err as Error).message, message);
        return true;
      });
    };
    await fails('{"foo":["bar"]}', InvalidArgumentError, "invalid filter 'foo'");
    await fails('{"dangling":["maybe"]}', InvalidArgumentError, "invalid filter 'dangling=[maybe]'");
    await fails('{"before":["nosuch"]}', NotFoundError, 'No such image: nosuch:latest');
    await fails('{"since":["Bad"]}', InvalidArgumentError, 'invalid reference format: repository name (library/Bad) must be lowercase');
    await fails('{"until":["later"]}', LadingError, 'failed to parse value as time or duration: "later"');
    await fails('{"until":["later"],"dangling":["maybe"]}', LadingError, 'failed to parse value as time or duration: "later"');
    await fails('{"label":["x"],"dangling":["maybe"]}', InvalidArgumentError, "invalid filter 'dangling=[maybe]'");
    // A bad pattern is no error: it matches nothing.
    assert.deepEqual(await e.list({ filters: '{"reference":["["]}' }), []);
  });

  it('label filter looks at every present config, attestation and other platforms included', async () => {
    const e = await env();
    const amd64 = await e.manifest({ layers: [{ data: 'p1', unpacked: 1 }], platform: { os: 'linux', architecture: 'amd64' }, labels: { p: 'amd64' } });
    const arm64 = await e.manifest({ layers: [{ data: 'p2', unpacked: 1 }], platform: { os: 'linux', architecture: 'arm64' }, labels: { p: 'arm64' } });
    await e.name('docker.io/library/multi:1', await e.index([amd64, arm64]));
    assert.equal((await e.list({ filters: '{"label":["p=arm64"]}' })).length, 1);
    assert.equal((await e.list({ filters: '{"label":["p=s390x"]}' })).length, 0);
  });

  it('facts of complete images outlive writes; a missing platform is looked at again after one', async () => {
    const e = await env();
    const amd64 = await e.manifest({ layers: [{ data: 'x1', unpacked: 1 }], platform: { os: 'linux', architecture: 'amd64' } });
    const armSpec: ImageSpec = { layers: [{ data: 'x2', unpacked: 2 }], platform: { os: 'linux', architecture: 'arm64' } };
    const arm64 = await e.manifest(armSpec, { store: false });
    await e.name('docker.io/library/partial:1', await e.index([amd64, arm64]));
    for (let i = 0; i < 20; i++) await e.name(`docker.io/library/full:${i}`, await e.manifest({ layers: [{ data: `f${i}`, unpacked: i }] }));

    await e.list();
    const afterFirst = e.hasCalls();
    await e.list();
    await e.service.diskUsage();
    assert.equal(e.hasCalls(), afterFirst, 'a second list stats nothing');

    // A write: the partial image is walked again (and now complete), the full ones are not.
    await e.manifest(armSpec);
    await e.name('docker.io/library/another:1', await e.manifest({ layers: [{ data: 'new', unpacked: 1 }] }));
    const before = e.hasCalls();
    const images = await e.list({ manifests: true });
    const partial = images.find((i) => i.repoTags?.[0] === 'partial:1');
    assert.deepEqual(partial?.manifests?.map((m) => m.available), [true, true]);
    assert.ok(e.hasCalls() - before <= 30, `only the changed images are walked (${e.hasCalls() - before} checks)`);
  });
});

describe('disk usage', () => {
  it('LayersSize: each chain’s unpacked size once, each present blob once; images with shared sizes', async () => {
    const e = await env();
    const a = await e.manifest({ layers: [base, { data: 'a-top', unpacked: 7 }], created: '2024-01-02T00:00:00Z' });
    const b = await e.manifest({ layers: [base, { data: 'b-top', unpacked: 9 }], created: '2024-01-01T00:00:00Z' });
    await e.name('docker.io/library/a:1', a);
    await e.name('docker.io/library/a:2', a);
    await e.name('docker.io/library/b:1', b);
    const du = await e.service.diskUsage();
    const blobBytes = async (d: Descriptor): Promise<number> => {
      const m = JSON.parse((await e.raw.readBytes(d.digest)).toString()) as { config: Descriptor; layers: Descriptor[] };
      return d.size + m.config.size + m.layers.reduce((n, l) => n + l.size, 0);
    };
    const baseBlob = Buffer.byteLength(base.data);
    assert.equal(du.layersSize, 1000 + 7 + 9 + (await blobBytes(a)) + (await blobBytes(b)) - baseBlob);
    assert.deepEqual(du.images.map((i) => [i.repoTags, i.sharedSize]), [[['a:1', 'a:2'], 1000], [['b:1'], 1000]]);
    assert.equal(layersSize([]), 0);
  });
});
