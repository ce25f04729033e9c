// dockerode (Node's Docker client) against ladingd; it sends unversioned paths, so API 1.51 applies.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { Daemon } from '../support/daemon.js';
import { assertInspect, bytesOf, expectImage, MAX_API } from '../support/expect.js';
import { layoutTar, multiPlatformImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';

interface ManifestSummary {
  ID: string;
  Descriptor: Record<string, unknown>;
  Available: boolean;
  Size: { Content: number; Total: number };
  Kind: string;
  ImageData?: { Platform: Record<string, unknown>; Size: { Unpacked: number }; Containers: unknown };
  AttestationData?: { For: string };
}

/** Sends an archive through `docker.loadImage` and returns the stream's messages. */
async function loadImage(docker: Docker, file: string): Promise<Array<Record<string, unknown>>> {
  const stream = (await docker.loadImage(createReadStream(file))) as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString()
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * `GET /images/{name}/json?manifests=1` through dockerode's modem: dockerode 4.0.12's
 * `getImage().inspect({manifests: true})` drops the option (its path has no `?`, so docker-modem adds
 * no query string); this is what its users do instead.
 */
function inspectWithManifests(docker: Docker, name: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/images/${name}/json?`,
        method: 'GET',
        options: { manifests: true },
        statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
      },
      (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as Record<string, unknown>)),
    );
  });
}

describe('dockerode', { timeout: 300_000 }, () => {
  let d: Daemon;
  let docker: Docker;
  let single: ImageFixture;
  let multi: ImageFixture;
  let partial: ImageFixture;

  before(async () => {
    [single, multi, partial] = await Promise.all([
      singlePlatformImage(),
      multiPlatformImage(),
      multiPlatformImage({ omit: 'arm64' }),
    ]);
    d = await Daemon.start();
    docker = new Docker({ socketPath: d.socket, timeout: 60_000 });
  });
  after(async () => {
    await d?.stop();
  });

  it('loadImage streams Loaded image messages', async () => {
    for (const [fx, file] of [
      [single, await ociArchive(single)],
      [multi, await ociArchive(multi)],
      [partial, await layoutTar(partial)],
    ] as const) {
      const messages = await loadImage(docker, file);
      assert.deepEqual(messages, [{ stream: `Loaded image: ${fx.familiar}\n` }], d.logs());
    }
  });

  it('getImage().inspect() of a single-platform image', async () => {
    const doc = (await docker.getImage('lading-single:v1').inspect()) as unknown as Record<string, unknown>;
    assertInspect(doc, expectImage(single, { apiVersion: MAX_API }));
  });

  it('getImage().inspect() of a multi-platform image', async () => {
    const doc = (await docker.getImage('lading-multi:v1').inspect()) as unknown as Record<string, unknown>;
    assertInspect(doc, expectImage(multi, { apiVersion: MAX_API }));
    assert.ok(!('Manifests' in doc));
  });

  it('getImage().inspect({manifests: true}) answers a valid document', async () => {
    const doc = (await docker.getImage('lading-multi:v1').inspect({ manifests: true })) as unknown as Record<string, unknown>;
    assertInspect(doc, expectImage(multi, { apiVersion: MAX_API }), { manifests: 'Manifests' in doc });
  });

  it('manifests=1 lists every manifest with its kind and availability', async () => {
    const doc = await inspectWithManifests(docker, 'lading-multi:v1');
    assertInspect(doc, expectImage(multi, { apiVersion: MAX_API }), { manifests: true });
    const manifests = doc.Manifests as ManifestSummary[];
    const [amd64, arm64] = multi.images;
    assert.ok(amd64 && arm64 && multi.attestation);
    assert.deepEqual(
      manifests.map((m) => [m.ID, m.Kind, m.Available]),
      [
        [amd64.manifest.digest, 'image', true],
        [arm64.manifest.digest, 'image', true],
        [multi.attestation.manifest.digest, 'attestation', true],
      ],
    );
    for (const [m, img] of [[manifests[0], amd64], [manifests[1], arm64]] as const) {
      assert.ok(m);
      assert.deepEqual(Object.keys(m), ['ID', 'Descriptor', 'Available', 'Size', 'Kind', 'ImageData']);
      assert.deepEqual(m.Descriptor, img.manifest, 'descriptor as in the index');
      assert.deepEqual(m.ImageData?.Platform, img.platform);
      assert.equal(m.ImageData?.Containers, null);
      const content = bytesOf(img.manifest, img.config, img.layers);
      assert.equal(m.Size.Content, content);
      assert.equal(m.Size.Total, content + (m.ImageData?.Size.Unpacked ?? NaN));
    }
    const att = manifests[2];
    assert.ok(att);
    assert.deepEqual(Object.keys(att), ['ID', 'Descriptor', 'Available', 'Size', 'Kind', 'AttestationData']);
    assert.deepEqual(att.AttestationData, { For: amd64.manifest.digest });
    assert.deepEqual(att.Descriptor, multi.attestation.manifest);
    const attContent = bytesOf(multi.attestation.manifest, multi.attestation.config, multi.attestation.layers);
    assert.deepEqual(att.Size, { Content: attContent, Total: attContent });
  });

  it('a platform whose blobs are absent shows Available false', async () => {
    const doc = await inspectWithManifests(docker, 'lading-partial:v1');
    assertInspect(doc, expectImage(partial, { apiVersion: MAX_API }), { manifests: true });
    const manifests = doc.Manifests as ManifestSummary[];
    const [amd64, arm64] = partial.images;
    assert.ok(amd64 && arm64);
    assert.deepEqual(
      manifests.map((m) => [m.ID, m.Available]),
      [
        [amd64.manifest.digest, true],
        [arm64.manifest.digest, false],
        [partial.attestation?.manifest.digest, true],
      ],
    );
    const missing = manifests[1];
    assert.equal(missing?.Kind, 'image');
    assert.equal(missing?.Size.Content, 0);
    assert.deepEqual(missing?.ImageData?.Platform, arm64.platform);
  });

  it('a missing image rejects with status 404 and the daemon message', async () => {
    await assert.rejects(docker.getImage('nosuch').inspect(), (err: { statusCode?: number; json?: unknown }) => {
      assert.equal(err.statusCode, 404);
      assert.deepEqual(err.json, { message: 'No such image: nosuch:latest' });
      return true;
    });
  });
});
