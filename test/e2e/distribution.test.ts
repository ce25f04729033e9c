// `GET /distribution/{name}/json` against a loopback registry: Docker 28.5's getDistributionInfo, its
// DistributionInspect shape (the manifest's descriptor, the platforms it names) and its errors.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { Daemon } from '../support/daemon.js';
import { MT, multiPlatformImage, sha256, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { Registry } from '../support/registry.js';

/** The single image again, as a Docker schema 2 manifest (same config and layer bytes, Docker media types). */
function dockerSchema2Layout(base: ImageFixture): { dir: string; digest: string; size: number } {
  const img = base.images[0]!;
  const dir = tempDir('schema2');
  const blobs = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const copy = (digest: string): void => {
    writeFileSync(path.join(blobs, digest.slice(7)), readFileSync(path.join(base.layoutDir, 'blobs', 'sha256', digest.slice(7))));
  };
  copy(img.config.digest);
  for (const l of img.layers) copy(l.digest);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.dockerManifest,
      config: { mediaType: MT.dockerConfig, digest: img.config.digest, size: img.config.size },
      layers: img.layers.map((l) => ({ mediaType: l.mediaType === MT.layer ? MT.dockerLayer : MT.dockerLayerGzip, digest: l.digest, size: l.size })),
    }),
  );
  const digest = sha256(manifest);
  writeFileSync(path.join(blobs, digest.slice(7)), manifest);
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MT.dockerManifest, digest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
  return { dir, digest, size: manifest.length };
}

describe('GET /distribution/{name}/json', { timeout: 300_000 }, () => {
  let single: ImageFixture;
  let multi: ImageFixture;
  let schema2: { dir: string; digest: string; size: number };
  let reg: Registry;
  let d: Daemon;

  before(async () => {
    [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    schema2 = dockerSchema2Layout(single);
    reg = await Registry.start();
    await reg.push(single, 'lab/single:v1');
    await reg.push(multi, 'lab/multi:v1', { all: true });
    await reg.push(schema2.dir, 'lab/schema2:v1');
    d = await Daemon.start();
  });
  after(async () => {
    await d?.stop();
    await reg?.stop();
  });

  const get = (name: string, headers: Record<string, string> = {}) => d.request(`/v1.51/distribution/${name}/json`, { headers });

  it('an index: its descriptor and every entry\'s platform', async () => {
    const res = await get(reg.ref('lab/multi:v1'));
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const index = JSON.parse(readFileSync(path.join(multi.layoutDir, 'blobs', 'sha256', multi.target.digest.slice(7)), 'utf8')) as {
      manifests: Array<{ platform?: Record<string, unknown> }>;
    };
    const platforms = index.manifests.map((m) => {
      const p = m.platform ?? {};
      return { architecture: p.architecture ?? '', os: p.os ?? '', ...(p.variant ? { variant: p.variant } : {}) };
    });
    assert.deepEqual(res.json(), {
      Descriptor: { mediaType: multi.target.mediaType, digest: multi.id, size: multi.target.size },
      Platforms: platforms,
    });
    // Go's encoder: field order as the structs declare them, one trailing newline.
    assert.ok(res.text.startsWith('{"Descriptor":{"mediaType":'), res.text);
    assert.ok(res.text.endsWith('}\n'), res.text);
  });

  it('a Docker schema 2 manifest: the platform of its config', async () => {
    const res = await get(reg.ref('lab/schema2:v1'));
    assert.equal(res.status, 200, res.text);
    const cfg = single.images[0]!.configJson;
    assert.deepEqual(res.json(), {
      Descriptor: { mediaType: MT.dockerManifest, digest: schema2.digest, size: schema2.size },
      Platforms: [{ architecture: cfg.architecture, os: cfg.os, ...(cfg.variant ? { variant: cfg.variant } : {}) }],
    });
  });

  it('an OCI manifest names no platform (Platforms null, as Docker 28.5)', async () => {
    const res = await get(reg.ref('lab/single:v1'));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json(), {
      Descriptor: { mediaType: MT.manifest, digest: single.id, size: single.target.size },
      Platforms: null,
    });
  });

  it('by digest: the size is the manifest\'s length', async () => {
    const res = await get(reg.ref(`lab/multi@${multi.id}`));
    assert.equal(res.status, 200, res.text);
    const body = res.json<{ Descriptor: Record<string, unknown> }>();
    assert.deepEqual(body.Descriptor, { mediaType: multi.target.mediaType, digest: multi.id, size: multi.target.size });
  });

  it('errors: unknown tag 404 with the registry\'s text, full ID 500, bad reference 400', async () => {
    const missing = await get(reg.ref('lab/single:nope'));
    assert.equal(missing.status, 404, missing.text);
    assert.match(missing.json<{ message: string }>().message, /^manifest unknown: /);

    const id = await get(single.id.slice(7));
    assert.equal(id.status, 500, id.text);
    assert.deepEqual(id.json(), { message: 'no manifest found for full image ID' });

    const bad = await get('lab/UPPER');
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json<{ message: string }>().message, /repository name must be lowercase|invalid reference format/);
  });

  it('docker-py get_registry_data and dockerode image.distribution read it', async () => {
    const ref = reg.ref('lab/multi:v1');
    const py = await d.pythonJson<{ id: string; platforms: unknown[]; amd64: boolean }>(
      `data = client.images.get_registry_data(${JSON.stringify(ref)})\n` +
        'print(json.dumps({"id": data.id, "platforms": data.attrs["Platforms"], "amd64": data.has_platform("linux/amd64")}))',
    );
    assert.equal(py.id, multi.id);
    assert.equal(py.platforms.length, multi.images.length + (multi.attestation ? 1 : 0));
    assert.equal(py.amd64, multi.images.some((i) => i.platform.os === 'linux' && i.platform.architecture === 'amd64'));

    const docker = new Dockerode({ socketPath: d.socket });
    const info = (await docker.getImage(ref).distribution({})) as { Descriptor: { digest: string } };
    assert.equal(info.Descriptor.digest, multi.id);
  });

  it('htpasswd over TLS: X-Registry-Auth is used; without it the registry refuses', async () => {
    const hreg = await Registry.start({ mode: 'htpasswd' });
    try {
      await hreg.push(multi, 'lab/private:v1', { all: true });
      const anonymous = await get(hreg.ref('lab/private:v1'));
      assert.equal(anonymous.status, 500, anonymous.text);
      assert.match(anonymous.json<{ message: string }>().message, /no basic auth credentials/);
      // As the docker CLI sends it: base64url with padding (Go's URLEncoding).
      const auth = Buffer.from(JSON.stringify({ username: 'lading', password: 'lading-secret', serveraddress: hreg.host }))
        .toString('base64')
        .replaceAll('+', '-')
        .replaceAll('/', '_');
      const res = await get(hreg.ref('lab/private:v1'), { 'X-Registry-Auth': auth });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json<{ Descriptor: { digest: string } }>().Descriptor.digest, multi.id);
    } finally {
      await hreg.stop();
    }
  });
});
