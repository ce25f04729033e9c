// `ladingd check` of replicas' shared store, on a real PostgreSQL and a real docker-registry: a clean
// store checks clean; a blob deleted from the registry, a holder left by a removal cut short and the
// records of what no image reaches are reported; a write in flight on another replica (its live
// leases) is not taken for garbage, and once its leases lapse it is.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { sharedPostgres, skipWithoutPostgres } from '../../test/support/postgres.js';
import { buildImage, imageBlobs, imageEntries, named, type BuiltImage } from '../archive/testing/sample-images.js';
import { PostgresCheckReads } from '../cluster/postgres-check-reads.js';
import { PostgresLeases } from '../cluster/postgres-leases.js';
import { holderTag } from '../content/holder-manifest.js';
import { registryTier, sharedRegistry, stopSharedRegistry, type RegistryTier } from '../content/testing/registry-content-harness.js';
import { Leases } from '../gc/leases.js';
import { ImageService } from '../images/image-service.js';
import { loadLayout } from '../images/testing/service-fixture.js';
import { PostgresMetadataStore } from '../metadata/postgres/postgres-metadata-store.js';
import { runCheck } from './check.js';
import { checkClusterStores, type ClusterCheckResult } from './cluster-check.js';

const messages = (r: ClusterCheckResult): string[] => r.problems.map((p) => p.message);

describe('ladingd check of replicas on PostgreSQL and a registry', { skip: skipWithoutPostgres() }, () => {
  let url: string;
  let host: string;
  const repository = `cluster-check/r${process.pid}`;
  let tier: RegistryTier;
  let metadata: PostgresMetadataStore;
  let shared: PostgresLeases;
  let images: ImageService;
  let app: BuiltImage;
  let other: BuiltImage;
  const closers: Array<() => Promise<unknown>> = [];

  /** The check as the CLI runs it: its own stores, a fresh cache (registry-content-harness's tier). */
  const check = async (): Promise<ClusterCheckResult> => {
    const own = await registryTier(host, 64 * 1024 * 1024, repository);
    const tables = new PostgresCheckReads(url);
    try {
      return await checkClusterStores({ metadata, content: own.store, remote: own.remote, tables });
    } finally {
      await tables.close();
      await own.close();
    }
  };

  before(async () => {
    url = await (await sharedPostgres()).createDatabase();
    host = (await sharedRegistry()).host;
    metadata = await PostgresMetadataStore.open(url);
    await metadata.markGraphBuilt();
    tier = await registryTier(host, 1024 ** 3, repository);
    shared = new PostgresLeases(url, { owner: 'replica-a', ttlMs: 30_000 });
    closers.push(() => tier.close(), () => shared.close(), () => metadata.close());
    images = new ImageService(tier.store, metadata, undefined, undefined, undefined, new Leases(shared));
    app = await buildImage({ architecture: 'amd64', os: 'linux' }, 'cluster-check-app');
    other = await buildImage({ architecture: 'amd64', os: 'linux' }, 'cluster-check-other');
    await loadLayout(images, imageEntries(app), [named(app.manifest.desc, 'docker.io/library/app:1')]);
    await loadLayout(images, imageEntries(other), [named(other.manifest.desc, 'docker.io/library/other:1')]);
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await stopSharedRegistry();
  });

  it('finds nothing wrong in a store made by loads; the CLI takes --metadata and --blob-store and exits 0', async () => {
    const result = await check();
    assert.deepEqual(messages(result), []);
    assert.equal(result.images, 2);
    assert.equal(result.blobs, imageBlobs(app).length + imageBlobs(other).length);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCheck(['--metadata', url, '--blob-store', `registry://${host}/${repository}`], (l) => out.push(l), (l) => err.push(l));
    assert.equal(code, 0, err.join(''));
    assert.deepEqual(out, []);
    assert.match(err.join(''), new RegExp(`ladingd check: PostgreSQL at 127\\.0\\.0\\.1:\\d+/lading_\\d+_\\d+ and registry://${host}/${repository}: ${result.blobs} blob\\(s\\), 2 image\\(s\\): no problems`));
  });

  it('reads --metadata and --blob-store from the daemon.json of --config-file, as the daemon does', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'cluster-check-config-')), 'daemon.json');
    closers.push(() => rm(path.dirname(file), { recursive: true, force: true }));
    await writeFile(file, JSON.stringify({ metadata: url, 'blob-store': `registry://${host}/${repository}` }));
    const err: string[] = [];
    assert.equal(await runCheck(['--config-file', file], () => undefined, (l) => err.push(l)), 0, err.join(''));
    assert.match(err.join(''), new RegExp(`registry://${host}/${repository}: \\d+ blob\\(s\\), 2 image\\(s\\): no problems`));
  });

  it('refuses --repair, and --metadata postgres without --blob-store, with exit code 2 and the reason', async () => {
    const err: string[] = [];
    assert.equal(await runCheck(['--repair', '--metadata', url, '--blob-store', `registry://${host}/${repository}`], () => undefined, (l) => err.push(l)), 2);
    assert.match(err.join(''), /--repair is not available for replicas on PostgreSQL: what no image reaches is collected by the replicas' garbage collector/);
    err.length = 0;
    assert.equal(await runCheck(['--metadata', url], () => undefined, (l) => err.push(l)), 2);
    assert.match(err.join(''), /--metadata postgres:\/\/… needs --blob-store registry:\/\/…/);
  });

  it('reports an image whose layer was deleted from the registry', async () => {
    const layer = app.layerBlobs[0]!.desc;
    assert.equal(await tier.remote.deleteBlob(layer.digest), true);
    try {
      assert.deepEqual(messages(await check()), [
        `image app:1 (${app.manifest.desc.digest}): layer ${layer.digest} of manifest ${app.manifest.desc.digest} is missing`,
      ]);
    } finally {
      // Back as a load brings it back.
      await tier.cache.evict(layer.digest);
      await loadLayout(images, imageEntries(app), [named(app.manifest.desc, 'docker.io/library/app:1')]);
    }
    assert.deepEqual(messages(await check()), []);
  });

  it('reports the holder and records a removal left behind when its replica died before its sweep', async () => {
    // What `docker rmi other:1` commits before it sweeps.
    assert.equal(await metadata.deleteImage('docker.io/library/other:1'), true);
    const target = other.manifest.desc.digest;
    const found = messages(await check());
    assert.ok(found.includes(`holder ${holderTag(target)} in registry://${host}/${repository} keeps the blobs of ${target}, which no image reaches and no lease holds`), found.join('\n'));
    assert.ok(found.includes(`blob graph: links out of ${target}, a blob no image reaches and no lease holds`), found.join('\n'));
    for (const layer of other.layerBlobs) {
      assert.ok(found.includes(`layer record of ${layer.desc.digest}, a blob no image reaches and no lease holds`), found.join('\n'));
    }
    assert.equal(found.length, 2 + other.layerBlobs.length, found.join('\n'));
    // The sweep the removal would have run leaves nothing to report.
    await images.collectGarbage(imageBlobs(other).map((b) => b.desc.digest));
    assert.deepEqual(messages(await check()), []);
  });

  it('leaves out what another replica\'s write in flight holds (a live lease); once the lease lapses it is reported, and the lease noted', async () => {
    // Replica B loads `late` and dies after its holder is written, before its records commit.
    const late = await buildImage({ architecture: 'amd64', os: 'linux' }, 'cluster-check-late');
    const blobs = [];
    for (const b of imageBlobs(late)) blobs.push(await tier.store.writeBytes(b.data));
    const b = new PostgresLeases(url, { owner: 'replica-b', ttlMs: 30_000 });
    closers.push(() => b.close());
    for (const blob of blobs) await b.hold(blob.digest);
    await tier.store.holds.hold(late.manifest.desc.digest, blobs);
    assert.deepEqual(messages(await check()), [], 'a write in flight is not garbage');

    // kill -9 of B: its leases are not renewed and lapse.
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await sql`UPDATE leases SET expires_at = now() - interval '1 second' WHERE owner = 'replica-b'`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    const result = await check();
    const target = late.manifest.desc.digest;
    assert.deepEqual(messages(result), [`holder ${holderTag(target)} in registry://${host}/${repository} keeps the blobs of ${target}, which no image reaches and no lease holds`]);
    assert.equal(result.notes.length, 1);
    assert.match(result.notes[0]!, /^replica replica-b: 4 lease\(s\) lapsed since \S+ \(it stopped renewing them\)/);
    await images.collectGarbage([target, ...blobs.map((x) => x.digest)]);
    assert.deepEqual(messages(await check()), []);
  });
});
