// ladingd with --blob-store registry://…: docker load, inspect and save answer as the embedded store
// does; each named target is held by a tagged manifest in the repository, which rmi and prune release;
// with the registry stopped, cached reads go on and a load answers 503.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Daemon } from '../support/daemon.js';
import { layoutTar, multiPlatformImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { Registry } from '../support/registry.js';

const REPOSITORY = 'lading/blobs';

function ok(res: { code: number | null; stdout: string; stderr: string }, what: string, d: Daemon): string {
  assert.equal(res.code, 0, `${what}: ${res.stderr}\n${d.logs()}`);
  return res.stdout;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function holderTag(digest: string): string {
  return digest.replace('sha256:', 'sha256-');
}

describe('ladingd --blob-store registry://', () => {
  let registry: Registry;
  let embedded: Daemon;
  let tiered: Daemon;
  let single: ImageFixture;
  let multi: ImageFixture;
  let archives: { single: string; multi: string };

  before(async () => {
    registry = await Registry.start();
    [embedded, tiered, single, multi] = await Promise.all([
      Daemon.start(),
      Daemon.start({ extraArgs: ['--blob-store', `registry://${registry.host}/${REPOSITORY}`, '--blob-cache-size', '64MiB'] }),
      singlePlatformImage(),
      multiPlatformImage({ omit: 'arm64' }),
    ]);
    archives = { single: await ociArchive(single), multi: await layoutTar(multi) };
  });

  after(async () => {
    await Promise.all([embedded?.stop(), tiered?.stop()]);
    await registry?.stop();
  });

  async function holderTags(): Promise<string[]> {
    const res = await registry.request(`/v2/${REPOSITORY}/tags/list`);
    if (res.status === 404) return [];
    assert.equal(res.status, 200, res.text);
    return ((JSON.parse(res.text) as { tags: string[] | null }).tags ?? []).sort();
  }

  it('docker load, inspect and save give what the embedded store gives; each target is held by a tag', async () => {
    for (const d of [embedded, tiered]) {
      ok(await d.docker(['load', '-i', archives.single]), 'docker load single', d);
      ok(await d.docker(['load', '-i', archives.multi]), 'docker load multi', d);
    }
    assert.deepEqual(await holderTags(), [holderTag(single.target.digest), holderTag(multi.target.digest)].sort());
    // The holder lists the target and every blob of it that is here (arm64's were never loaded).
    const holder = await registry.request(`/v2/${REPOSITORY}/manifests/${holderTag(multi.target.digest)}`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const layers = (JSON.parse(holder.text) as { layers: Array<{ digest: string }> }).layers.map((l) => l.digest);
    assert.ok(layers.includes(multi.target.digest));
    for (const digest of multi.missing) assert.ok(!layers.includes(digest), `absent ${digest} is not held`);

    for (const fx of [single, multi]) {
      const [mine, theirs] = await Promise.all(
        [embedded, tiered].map(async (d) => {
          const doc = JSON.parse(ok(await d.docker(['image', 'inspect', fx.familiar]), 'inspect', d)) as Array<Record<string, unknown>>;
          for (const image of doc) delete (image.Metadata as Record<string, unknown>).LastTagTime;
          return doc;
        }),
      );
      assert.deepEqual(theirs, mine, `inspect ${fx.familiar}`);
      const dir = tempDir('blobsave');
      const files = [path.join(dir, 'embedded.tar'), path.join(dir, 'tiered.tar')];
      ok(await embedded.docker(['save', '-o', files[0]!, fx.familiar]), 'save', embedded);
      ok(await tiered.docker(['save', '-o', files[1]!, fx.familiar]), 'save', tiered);
      assert.equal(sha256(files[1]!), sha256(files[0]!), `docker save ${fx.familiar}: the same bytes`);
    }
  });

  it('with the registry stopped, inspect of cached content goes on and a load answers 503', async () => {
    // The registry's process stops; its storage goes with it, which this daemon must not need for cached reads.
    const host = registry.host;
    const stopped = registry;
    await stopped.stop();
    try {
      ok(await tiered.docker(['image', 'inspect', single.familiar]), 'inspect with the registry down', tiered);
      const res = await tiered.request('/v1.51/images/load?quiet=1', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-tar' },
        body: readFileSync(archives.single),
        timeoutMs: 60_000,
      });
      assert.equal(res.status, 503, res.text);
      assert.match(res.text, new RegExp(`the blob store registry://${host.replaceAll('.', '\\.')}/${REPOSITORY} is unavailable`));
    } finally {
      registry = await Registry.start();
    }
  });
});

describe('ladingd --blob-store registry://: removal releases holders', () => {
  let registry: Registry;
  let d: Daemon;

  before(async () => {
    registry = await Registry.start();
    d = await Daemon.start({ extraArgs: ['--blob-store', `registry://${registry.host}/${REPOSITORY}`] });
  });

  after(async () => {
    await d?.stop();
    await registry?.stop();
  });

  async function holderTags(): Promise<string[]> {
    const res = await registry.request(`/v2/${REPOSITORY}/tags/list`);
    return res.status === 404 ? [] : (((JSON.parse(res.text) as { tags: string[] | null }).tags ?? []).sort());
  }

  it('docker rmi deletes the image\'s holder, docker image prune -a the rest', async () => {
    const [single, multi] = [await singlePlatformImage(), await multiPlatformImage({ omit: 'arm64' })];
    ok(await d.docker(['load', '-i', await ociArchive(single)]), 'load single', d);
    ok(await d.docker(['load', '-i', await layoutTar(multi)]), 'load multi', d);
    assert.deepEqual(await holderTags(), [holderTag(single.target.digest), holderTag(multi.target.digest)].sort());

    ok(await d.docker(['rmi', single.familiar]), 'rmi', d);
    assert.deepEqual(await holderTags(), [holderTag(multi.target.digest)]);
    // Its blobs are unlinked from the repository too; the registry's GC reclaims their bytes.
    const config = await registry.request(`/v2/${REPOSITORY}/blobs/${single.images[0]!.config.digest}`, { method: 'HEAD' });
    assert.equal(config.status, 404);

    ok(await d.docker(['tag', multi.familiar, 'other:v2']), 'tag', d);
    ok(await d.docker(['rmi', multi.familiar]), 'rmi one of two names', d);
    assert.deepEqual(await holderTags(), [holderTag(multi.target.digest)], 'still named: still held');
    ok(await d.docker(['image', 'prune', '-a', '-f']), 'prune', d);
    assert.deepEqual(await holderTags(), []);
  });
});
