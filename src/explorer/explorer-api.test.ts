import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageExplorer } from '../images/image-explorer.js';
import { LayerListings, type LayerFile } from '../images/layer-files.js';
import { tagReference } from '../images/image-tag.js';
import { newService, type ServiceFixture } from '../images/testing/service-fixture.js';
import { AMD64_PACKAGES, APP, ARM64_PACKAGES, BASE, BUILDER, explorerFixture, MULTI, SIZES, SOURCE, type ExplorerFixture } from '../images/testing/explorer-fixture.js';
import { chunked } from '../archive/testing/archive-builder.js';
import { silentLogger } from '../util/logger.js';
import { createExplorerServer } from './explorer-server.js';

const TOKEN = 'test-token-0123456789';

describe('explorer API', () => {
  let fx: ServiceFixture;
  let images: ExplorerFixture;
  let listings: LayerListings;
  let server: Server;
  let open: Server;
  let base: string;
  let openBase: string;
  let dir: string;
  const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };

  const listen = async (s: Server): Promise<string> => {
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${base}/_lading/ui/api${p}`, auth);
    assert.equal(res.status, 200, `${p}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  };

  before(async () => {
    fx = await newService();
    images = await explorerFixture();
    await fx.images.load(chunked(images.archive, [65536]));
    dir = mkdtempSync(path.join(tmpdir(), 'lading-listings-'));
    listings = new LayerListings(fx.images.content, fx.images.limits, dir);
    const explorer = new ImageExplorer(fx.images, listings);
    server = createExplorerServer(explorer, silentLogger, { token: TOKEN, pageDir: dir });
    open = createExplorerServer(explorer, silentLogger, { pageDir: dir });
    base = await listen(server);
    openBase = await listen(open);
  });
  after(async () => {
    for (const s of [server, open]) await new Promise((resolve) => s.close(resolve));
    fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a request without the token (401), takes it once in the URL, then from the cookie or a bearer header', async () => {
    for (const p of ['/_lading/ui/', '/_lading/ui/api/images', '/_lading/ui/api/events']) {
      assert.equal((await fetch(base + p)).status, 401, p);
      assert.equal((await fetch(base + p, { headers: { Authorization: 'Bearer wrong' } })).status, 401, p);
      assert.equal((await fetch(base + p, { headers: { Cookie: 'lading_ui_token=wrong' } })).status, 401, p);
    }
    const first = await fetch(`${base}/_lading/ui/?token=${TOKEN}`, { redirect: 'manual' });
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), '/_lading/ui/', 'the token leaves the address bar');
    const cookie = first.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^lading_ui_token=test-token-0123456789; Path=\/; HttpOnly; SameSite=Strict$/);
    const withCookie = await fetch(`${base}/_lading/ui/api/images`, { headers: { Cookie: cookie.split(';')[0]! } });
    assert.equal(withCookie.status, 200);
    assert.equal((await fetch(`${base}/_lading/ui/api/images`, auth)).status, 200);
    assert.equal((await fetch(`${openBase}/_lading/ui/api/images`)).status, 200, 'with the token turned off');
  });

  it('lists images paged, searched and filtered on the server', async () => {
    type Page = { total: number; images: Array<{ id: string; repoTags: string[] | null; manifests: Array<{ kind: string }> }> };
    const all = await api<Page>('/images?limit=2');
    assert.equal(all.total, 4);
    assert.equal(all.images.length, 2);
    const rest = await api<Page>('/images?limit=2&offset=2');
    assert.equal(rest.images.length, 2);
    assert.deepEqual((await api<Page>('/images?search=app')).images.map((i) => i.repoTags), [['explorer/app:1']]);
    assert.deepEqual(
      (await api<Page>('/images?reference=explorer/*')).images.map((i) => i.repoTags?.[0]).sort(),
      ['explorer/app:1', 'explorer/base:1', 'explorer/multi:1'],
    );
    assert.deepEqual((await api<Page>('/images?dangling=true')).images.map((i) => i.id), [images.dangling.manifest.desc.digest]);
    assert.deepEqual((await api<Page>('/images?label=com.example.team=web')).images.map((i) => i.repoTags), [['explorer/app:1']]);
    const multi = (await api<Page>(`/images?search=${encodeURIComponent(MULTI)}`)).images[0]!;
    assert.deepEqual(multi.manifests.map((m) => m.kind), ['image', 'image', 'attestation', 'attestation']);
  });

  it("gives one image's document for a platform, and its graph: each document's children as it lists them", async () => {
    type Doc = { os: string; architecture: string; variant: string; manifests: unknown[]; platformManifest: string; graph: { root: string; nodes: Array<{ descriptor: { digest: string }; children: string[] }> } };
    const doc = await api<Doc>(`/image?ref=${encodeURIComponent(MULTI)}&platform=linux/arm64/v8`);
    assert.deepEqual([doc.os, doc.architecture, doc.variant], ['linux', 'arm64', 'v8']);
    assert.equal(doc.platformManifest, images.arm64.manifest.desc.digest);
    assert.equal(doc.manifests.length, 4);
    const children = new Map(doc.graph.nodes.map((n) => [n.descriptor.digest, n.children]));
    assert.equal(doc.graph.root, images.multiIndex.desc.digest);
    assert.equal(children.get(doc.graph.root)!.length, 4);
    const attestations = children.get(doc.graph.root)!.slice(2).map((d) => children.get(d)!);
    // Both attestation manifests have the same (empty) config blob: listed under each, first.
    assert.equal(attestations[0]![0], attestations[1]![0]);
    assert.deepEqual(attestations.map((c) => c.length), [3, 3]);
  });

  it("lists a layer's files, whiteouts included, computed once and kept by digest", async () => {
    const digest = images.base.layers[1]!.blob.desc.digest;
    const read = async (): Promise<LayerFile[]> => {
      const res = await fetch(`${base}/_lading/ui/api/layers/${digest}/files`, auth);
      assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
      return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as LayerFile);
    };
    const files = await read();
    assert.deepEqual(files.map((f) => [f.path, f.kind]), [
      ['tmp/cache.bin', 'whiteout'],
      ['usr/share/big', 'whiteout'],
      ['etc/app.conf', 'file'],
      ['app', 'dir'],
      ['app/readme.txt', 'file'],
    ]);
    const computed = listings.computed;
    assert.deepEqual(await read(), files);
    const fresh = new LayerListings(fx.images.content, fx.images.limits, dir);
    assert.deepEqual(await fresh.files(digest), files, 'another process reads the kept listing');
    assert.equal(listings.computed + fresh.computed, computed, 'no second computation');
    // At start, listings of layers the store lost go; the others stay.
    assert.equal(await fresh.removeStale(async (d) => d !== digest), 1);
    assert.equal(await fresh.removeStale(async () => true), 0);
    assert.deepEqual(await new LayerListings(fx.images.content, fx.images.limits, dir).files(digest), files, 'computed again');
  });

  it('shows the merged tree up to a layer, with what that layer added, changed and removed', async () => {
    type Tree = { layers: number; layer: number; entries: Array<{ name: string; kind: string; size: number; marker?: string; changedBelow?: boolean; link?: string }> };
    const ref = encodeURIComponent(BASE);
    const first = await api<Tree>(`/image/tree?ref=${ref}&layer=0&dir=tmp`);
    assert.deepEqual(first.entries.map((e) => [e.name, e.size, e.marker]), [['cache.bin', SIZES.cache, 'added']]);
    const root = await api<Tree>(`/image/tree?ref=${ref}`);
    assert.equal(root.layer, 1);
    assert.deepEqual(root.entries.map((e) => [e.name, e.marker ?? '', e.changedBelow ?? false]), [
      ['app', 'added', true],
      ['bin', '', false],
      ['etc', '', true],
      ['tmp', '', true],
      ['usr', '', true],
    ]);
    assert.deepEqual((await api<Tree>(`/image/tree?ref=${ref}&dir=tmp`)).entries.map((e) => [e.name, e.size, e.marker]), [['cache.bin', SIZES.cache, 'removed']]);
    assert.deepEqual((await api<Tree>(`/image/tree?ref=${ref}&dir=usr/share`)).entries.map((e) => [e.name, e.kind, e.size, e.marker]), [
      ['big', 'dir', SIZES.data1 + SIZES.data2, 'removed'],
    ]);
    assert.deepEqual((await api<Tree>(`/image/tree?ref=${ref}&dir=etc`)).entries.map((e) => [e.name, e.size, e.marker ?? '']), [
      ['app.conf', SIZES.conf2, 'changed'],
      ['os-release', 24, ''],
    ]);
    assert.deepEqual((await api<Tree>(`/image/tree?ref=${ref}&dir=bin`)).entries.map((e) => [e.name, e.kind, e.link ?? '']), [
      ['busybox', 'file', ''],
      ['sh', 'symlink', 'busybox'],
    ]);
    const missing = await fetch(`${base}/_lading/ui/api/image/tree?ref=${ref}&dir=nope`, auth);
    assert.equal(missing.status, 404);
  });

  it("computes wasted space and the efficiency score as dive does", async () => {
    const eff = await api<{ score: number; wastedBytes: number; userSizeBytes: number; inefficiencies: Array<{ path: string; cumulativeSize: number; removed: boolean; layers: number[] }> }>(
      `/image/efficiency?ref=${encodeURIComponent(BASE)}`,
    );
    assert.deepEqual(eff.inefficiencies, [
      { path: 'tmp/cache.bin', cumulativeSize: SIZES.cache, layers: [0, 1], removed: true },
      { path: 'etc/app.conf', cumulativeSize: SIZES.conf1 + SIZES.conf2, layers: [0, 1], removed: false },
    ]);
    assert.equal(eff.wastedBytes, SIZES.cache + SIZES.conf1 + SIZES.conf2);
    const readme = 26;
    assert.equal(eff.userSizeBytes, SIZES.conf2 + readme);
    // Leaves: busybox, sh (0), app.conf ×2, os-release (24), cache.bin and its whiteout (0), data1, data2,
    // readme, and the whiteout of usr/share/big, which counts the directory's bytes (dive's sizer).
    const big = SIZES.data1 + SIZES.data2;
    const discovered = SIZES.busybox + SIZES.conf1 + SIZES.conf2 + 24 + SIZES.cache + big + readme + big;
    const minimum = SIZES.busybox + SIZES.conf1 + 24 + 0 + big + readme + big;
    assert.equal(eff.score, minimum / discovered);
  });

  it('compares two images: shared and own layers, files added, removed and changed, config differences', async () => {
    const diff = await api<{
      sharedLayers: unknown[];
      onlyA: Array<{ digest: string }>;
      onlyB: Array<{ digest: string }>;
      added: Array<{ path: string }>;
      removed: Array<{ path: string }>;
      changed: Array<{ path: string; size: number; oldSize: number }>;
      config: Array<{ key: string; a?: string; b?: string }>;
    }>(`/compare?a=${encodeURIComponent(BASE)}&b=${encodeURIComponent(APP)}`);
    assert.equal(diff.sharedLayers.length, 1);
    assert.deepEqual(diff.onlyA.map((l) => l.digest), [images.base.layers[1]!.blob.desc.digest]);
    assert.deepEqual(diff.onlyB.map((l) => l.digest), [images.app.layers[1]!.blob.desc.digest]);
    assert.deepEqual(diff.added.map((f) => f.path), ['app/server', 'tmp/cache.bin', 'usr/share/big/data1.bin', 'usr/share/big/data2.bin']);
    assert.deepEqual(diff.removed.map((f) => f.path), ['app/readme.txt']);
    assert.deepEqual(diff.changed, [{ path: 'etc/app.conf', kind: 'file', size: 9, oldSize: SIZES.conf2 }]);
    assert.deepEqual(diff.config.map((c) => c.key), [
      'Cmd',
      'Entrypoint',
      'Env MODE',
      'ExposedPorts',
      'Label com.example.team',
      'Label org.opencontainers.image.title',
      'User',
      'WorkingDir',
    ]);
    assert.deepEqual(diff.config[2], { key: 'Env MODE', a: 'base', b: 'app' });
    const platforms = await api<{ sharedLayers: unknown[]; added: Array<{ path: string }>; removed: Array<{ path: string }> }>(
      `/compare?a=${encodeURIComponent(MULTI)}&platformA=linux/amd64&b=${encodeURIComponent(MULTI)}&platformB=linux/arm64/v8`,
    );
    assert.deepEqual([platforms.sharedLayers.length, platforms.added.map((f) => f.path), platforms.removed.map((f) => f.path)], [
      0,
      ['lib/ld-musl-aarch64.so.1'],
      ['lib/ld-musl-x86_64.so.1'],
    ]);
  });

  it('summarizes the attestations of each platform: SBOM packages and provenance, the raw statement on demand', async () => {
    type Chain = Array<{ platform: string; statements: Array<{ kind: string; digest: string; packages?: Array<{ name: string; purl?: string }>; provenance?: { builder?: string; source?: { uri?: string }; materials: unknown[] } }> }>;
    const chain = await api<Chain>(`/image/supply-chain?ref=${encodeURIComponent(MULTI)}`);
    assert.deepEqual(chain.map((p) => [p.platform, p.statements.map((s) => s.kind)]), [
      ['linux/amd64', ['cyclonedx', 'provenance']],
      ['linux/arm64/v8', ['spdx', 'provenance']],
    ]);
    const arm = chain[1]!.statements;
    assert.deepEqual(arm[0]!.packages!.map((p) => p.name), ARM64_PACKAGES);
    assert.equal(arm[0]!.packages![2]!.purl, 'pkg:apk/alpine/libcrypto3@1.2.0-r2?arch=aarch64');
    assert.deepEqual(chain[0]!.statements[0]!.packages!.map((p) => p.name), AMD64_PACKAGES);
    assert.equal(arm[1]!.provenance!.builder, BUILDER);
    assert.equal(arm[1]!.provenance!.source!.uri, SOURCE);
    assert.equal(arm[1]!.provenance!.materials.length, 1);
    const raw = await api<{ predicateType: string }>(`/image/statement?ref=${encodeURIComponent(MULTI)}&digest=${arm[0]!.digest}`);
    assert.equal(raw.predicateType, 'https://spdx.dev/Document');
    const foreign = await fetch(`${base}/_lading/ui/api/image/statement?ref=${encodeURIComponent(BASE)}&digest=${arm[0]!.digest}`, auth);
    assert.equal(foreign.status, 404);
    assert.deepEqual(await api<Chain>(`/image/supply-chain?ref=${encodeURIComponent(BASE)}`), []);
  });

  it('shows disk usage and what a prune would remove, removing nothing', async () => {
    type Usage = { layersSize: number; images: unknown[]; prune: { ImagesDeleted: Array<Record<string, string>> | null; SpaceReclaimed: number }; pruneAll: { ImagesDeleted: unknown[] | null; SpaceReclaimed: number } };
    const usage = await api<Usage>('/disk-usage');
    assert.equal(usage.images.length, 4);
    const id = images.dangling.manifest.desc.digest;
    assert.deepEqual(usage.prune.ImagesDeleted, [{ Untagged: id }, { Deleted: id }]);
    const dangling = images.dangling;
    assert.equal(usage.prune.SpaceReclaimed, dangling.manifest.desc.size + dangling.config.desc.size + dangling.layers[0]!.blob.desc.size);
    assert.ok(usage.pruneAll.SpaceReclaimed > usage.prune.SpaceReclaimed);
    assert.equal((await api<{ total: number }>('/images')).total, 4, 'nothing was removed');
  });

  it('streams events as they happen', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/_lading/ui/api/events`, { ...auth, signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    const before = await api<{ images: Array<{ repoTags: string[] }> }>('/images?search=base:');
    assert.deepEqual(before.images.map((i) => i.repoTags), [['explorer/base:1']]);
    await fx.images.tag(BASE, tagReference('explorer/base', 'again')!);
    let text = '';
    while (!text.includes('"action":"tag"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    controller.abort();
    const events = text.split('\n\n').filter((b) => b.includes('data: ')).map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6)) as { action: string; attributes: Record<string, string> });
    assert.ok(events.some((e) => e.action === 'load'), 'kept events first');
    assert.equal(events.at(-1)!.action, 'tag');
    assert.equal(events.at(-1)!.attributes.name, 'explorer/base:again');
    // The kept list follows the store.
    const page = await api<{ images: Array<{ repoTags: string[] }> }>('/images?search=base:');
    assert.deepEqual(page.images.map((i) => i.repoTags), [['explorer/base:1', 'explorer/base:again']]);
  });
});
