// The fixtures must be images that real tools accept; no daemon needed here.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { run, runOk } from './exec.js';
import {
  dockerArchive,
  dockerArchiveManifest,
  hex,
  layoutTar,
  MT,
  multiPlatformImage,
  noCreatedImage,
  ociArchive,
  sha256,
  singlePlatformImage,
  untar,
  type ImageFixture,
} from './images.js';

async function skopeoRaw(args: string[]): Promise<Buffer> {
  const res = await runOk('skopeo', args, { timeoutMs: 60_000 });
  return Buffer.from(res.stdout, 'utf8');
}

async function skopeoInspect(ref: string, extra: string[] = []): Promise<Record<string, unknown>> {
  const res = await runOk('skopeo', [...extra, 'inspect', ref], { timeoutMs: 60_000 });
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

function blobPath(fx: ImageFixture, digest: string): string {
  return path.join(fx.layoutDir, 'blobs', 'sha256', hex(digest));
}

describe('test image fixtures', { timeout: 180_000 }, () => {
  it('single-platform layout reads back through skopeo and umoci', async () => {
    const fx = await singlePlatformImage();
    const [img] = fx.images;
    assert.ok(img);
    assert.equal(fx.target.mediaType, MT.manifest);
    assert.equal(sha256(await skopeoRaw(['inspect', '--raw', `oci:${fx.layoutDir}:${fx.tag}`])), fx.id);
    assert.equal(sha256(await skopeoRaw(['inspect', '--config', '--raw', `oci:${fx.layoutDir}:${fx.tag}`])), img.config.digest);
    const info = await skopeoInspect(`oci:${fx.layoutDir}:${fx.tag}`);
    assert.equal(info.Digest, fx.id);
    assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
    // skopeo prints Go's RFC3339Nano too: an independent check of the expected Created.
    assert.equal(info.Created, img.created);
    assert.equal(info.Architecture, 'amd64');
    const umoci = await runOk('umoci', ['ls', '--layout', fx.layoutDir]);
    assert.equal(umoci.stdout.trim(), fx.tag);
  });

  it('multi-platform index resolves each platform; attestation points at amd64', async () => {
    const fx = await multiPlatformImage();
    const [amd64, arm64] = fx.images;
    assert.ok(amd64 && arm64 && fx.attestation);
    assert.equal(fx.target.mediaType, MT.index);
    assert.equal(sha256(await skopeoRaw(['inspect', '--raw', `oci:${fx.layoutDir}:${fx.tag}`])), fx.id);
    const index = JSON.parse(readFileSync(blobPath(fx, fx.id), 'utf8')) as { manifests: Array<{ digest: string }> };
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [amd64.manifest.digest, arm64.manifest.digest, fx.attestation.manifest.digest],
    );
    // skopeo's Digest stays the index digest; the platform shows in the config it picks.
    const ref = `oci:${fx.layoutDir}:${fx.tag}`;
    const armArgs = ['--override-arch', 'arm64', '--override-variant', 'v8'];
    assert.equal(sha256(await skopeoRaw(['--override-arch', 'amd64', 'inspect', '--config', '--raw', ref])), amd64.config.digest);
    assert.equal(sha256(await skopeoRaw([...armArgs, 'inspect', '--config', '--raw', ref])), arm64.config.digest);
    const a = await skopeoInspect(ref, ['--override-arch', 'amd64']);
    assert.equal(a.Digest, fx.id);
    assert.equal(a.Created, amd64.created);
    const b = await skopeoInspect(ref, armArgs);
    assert.deepEqual(b.Layers, arm64.layers.map((l) => l.digest));
    assert.equal(b.Created, arm64.created);
    assert.equal(b.Architecture, 'arm64');
    assert.equal(fx.attestation.for, amd64.manifest.digest);
    assert.equal(fx.attestation.layers[0]?.mediaType, MT.inToto);
    const all = [amd64, arm64].flatMap((i) => [i.manifest, i.config, ...i.layers].map((d) => d.digest));
    assert.equal(new Set(all).size, all.length, 'no blob shared between platforms');
  });

  it('partial index lacks exactly the arm64 blobs', async () => {
    const fx = await multiPlatformImage({ omit: 'arm64' });
    const [amd64, arm64] = fx.images;
    assert.ok(amd64 && arm64);
    assert.equal(sha256(await skopeoRaw(['inspect', '--raw', `oci:${fx.layoutDir}:${fx.tag}`])), fx.id);
    for (const d of [arm64.manifest, arm64.config, ...arm64.layers]) assert.ok(!existsSync(blobPath(fx, d.digest)));
    for (const d of [amd64.manifest, amd64.config, ...amd64.layers]) assert.ok(existsSync(blobPath(fx, d.digest)));
    assert.equal(fx.missing.length, 2 + arm64.layers.length);
    const res = await run('skopeo', ['--override-arch', 'arm64', '--override-variant', 'v8', 'inspect', `oci:${fx.layoutDir}:${fx.tag}`]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no such file or directory/);
    const full = await multiPlatformImage();
    assert.notEqual(fx.id, full.id);
  });

  it('no-created image has no created anywhere', async () => {
    const fx = await noCreatedImage();
    const [img] = fx.images;
    assert.ok(img);
    const config = JSON.parse(readFileSync(blobPath(fx, img.config.digest), 'utf8')) as Record<string, unknown>;
    assert.ok(!('created' in config));
    assert.equal(img.created, undefined);
    assert.equal(sha256(await skopeoRaw(['inspect', '--raw', `oci:${fx.layoutDir}:${fx.tag}`])), fx.id);
  });

  it('skopeo oci-archive keeps every digest and names the entry by ref.name only', async () => {
    for (const fx of [await singlePlatformImage(), await multiPlatformImage()]) {
      const file = await ociArchive(fx);
      assert.equal(sha256(await skopeoRaw(['inspect', '--raw', `oci-archive:${file}`])), fx.id);
      const files = await untar(readFileSync(file));
      const index = JSON.parse(files.get('index.json')?.toString() ?? '{}') as {
        manifests: Array<{ digest: string; annotations: Record<string, string> }>;
      };
      assert.equal(index.manifests.length, 1);
      assert.equal(index.manifests[0]?.digest, fx.id);
      assert.deepEqual(index.manifests[0]?.annotations, { 'org.opencontainers.image.ref.name': fx.ref });
      for (const d of fx.images.flatMap((i) => [i.manifest, i.config, ...i.layers])) {
        assert.ok(files.has(`blobs/sha256/${hex(d.digest)}`), d.digest);
      }
    }
  });

  it('skopeo docker-archive: uncompressed layers, same config, full name in RepoTags', async () => {
    const fx = await singlePlatformImage();
    const [img] = fx.images;
    assert.ok(img);
    const file = await dockerArchive(fx);
    const files = await untar(readFileSync(file));
    const manifest = JSON.parse(files.get('manifest.json')?.toString() ?? '[]') as Array<Record<string, unknown>>;
    assert.deepEqual(manifest[0]?.RepoTags, [fx.ref]);
    const synth = await dockerArchiveManifest(file);
    assert.equal(synth.config.digest, img.config.digest);
    assert.deepEqual(synth.layers.map((l) => l.digest), img.diffIds);
    assert.deepEqual(new Set(synth.layers.map((l) => l.mediaType)), new Set([MT.dockerLayer]));
    assert.notEqual(synth.target.digest, fx.id);
    assert.equal(sha256(await skopeoRaw(['inspect', '--config', '--raw', `docker-archive:${file}`])), img.config.digest);
  });

  it('skopeo docker-archive of the index picks the requested platform', async () => {
    const fx = await multiPlatformImage();
    const [, arm64] = fx.images;
    assert.ok(arm64);
    const file = await dockerArchive(fx, { platform: arm64.platform, name: 'lading-multi:arm64' });
    const synth = await dockerArchiveManifest(file);
    assert.equal(synth.config.digest, arm64.config.digest);
    assert.deepEqual(synth.layers.map((l) => l.digest), arm64.diffIds);
  });

  it('layout tar holds the layout as is, including the partial one', async () => {
    const fx = await multiPlatformImage({ omit: 'arm64' });
    const files = await untar(readFileSync(await layoutTar(fx)));
    assert.deepEqual(JSON.parse(files.get('oci-layout')?.toString() ?? ''), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')?.toString() ?? '{}') as { manifests: Array<Record<string, unknown>> };
    assert.deepEqual(index.manifests, [fx.target]);
    assert.deepEqual(fx.target.annotations, {
      'io.containerd.image.name': 'docker.io/library/lading-partial:v1',
      'org.opencontainers.image.ref.name': 'v1',
    });
    assert.ok(files.has(`blobs/sha256/${hex(fx.id)}`));
    for (const d of fx.missing) assert.ok(!files.has(`blobs/sha256/${hex(d)}`));
  });
});
