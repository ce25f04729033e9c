// `GET /images/{name}/json?remote=1` (Lading's own) against loopback registries through the fault proxy: the
// document equals, field for field and in key order, what the same image gives after a real `docker pull` into
// Lading, but for the fields the README names (LastTagTime, unpacked sizes); no layer is requested; nothing is kept.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { Daemon } from '../support/daemon.js';
import { blobPath, FaultProxy, manifestPath } from '../support/fault-proxy.js';
import type { ImageFixture } from '../support/images.js';
import { RegistryFixture } from '../support/registry-fixture.js';
import { Registry } from '../support/registry.js';

type Doc = Record<string, unknown>;
const VERSIONS = ['1.24', '1.43', '1.44', '1.47', '1.48', '1.49', '1.50', '1.51'];
const ARM64 = encodeURIComponent(JSON.stringify({ os: 'linux', architecture: 'arm64' }));

/**
 * A pulled image's document with what a remote inspect cannot know set as the remote one reports it: no tag
 * time here (Go's zero time) and unpacked sizes unknown (0, so Total = Content). Key order is kept.
 */
function asRemote(doc: Doc): Doc {
  const out: Doc = { ...doc };
  if (out.Metadata) out.Metadata = { LastTagTime: '0001-01-01T00:00:00Z' };
  if (Array.isArray(out.Manifests)) {
    out.Manifests = (out.Manifests as Doc[]).map((m) => {
      const size = m.Size as { Content: number; Total: number };
      const imageData = m.ImageData as Doc | undefined;
      return {
        ...m,
        Size: { Content: size.Content, Total: size.Content },
        ...(imageData ? { ImageData: { ...imageData, Size: { Unpacked: 0 } } } : {}),
      };
    });
  }
  return out;
}

function blobFiles(d: Daemon): string[] {
  const dir = path.join(d.dataRoot, 'content', 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir) : [];
}

function base64url(json: unknown): string {
  // As the docker CLI sends it: base64url with padding (Go's URLEncoding).
  return Buffer.from(JSON.stringify(json)).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

describe('remote inspect: GET /images/{name}/json?remote=1', { timeout: 600_000 }, () => {
  let fx: RegistryFixture;
  let single: ImageFixture;
  let multi: ImageFixture;
  let reg: Registry;
  let proxy: FaultProxy;
  let d: Daemon;

  before(async () => {
    fx = await RegistryFixture.start();
    ({ single, multi, reg, proxy, d } = fx);
  });
  after(() => fx?.stop());

  const remote = (name: string, query = '', version = '1.51', headers: Record<string, string> = {}) =>
    d.request(`/v${version}/images/${name}/json?remote=1${query}`, { headers });

  /** Pulls `ref` into a daemon of its own (`pullArgs` added to `docker pull`), runs `fn` on it, stops it. */
  async function withPulled(ref: string, pullArgs: string[], fn: (p: Daemon) => Promise<void>): Promise<void> {
    const p = await Daemon.start();
    try {
      const res = await p.docker(['pull', ...pullArgs, ref]);
      assert.equal(res.code, 0, `docker pull ${ref}: ${res.stderr}\n${p.logs()}`);
      await fn(p);
    } finally {
      await p.stop();
    }
  }

  /** For every API version and query: the remote document is the pulled one (as asRemote makes it), key order too. */
  async function assertSameAsPulled(p: Daemon, ref: string, queries: string[], versions = VERSIONS): Promise<void> {
    for (const version of versions) {
      for (const query of queries) {
        const local = await p.request(`/v${version}/images/${ref}/json${query ? '?' + query.slice(1) : ''}`);
        assert.equal(local.status, 200, `local ${version} ${query}: ${local.text}`);
        const res = await remote(ref, query, version);
        assert.equal(res.status, 200, `remote ${version} ${query}: ${res.text}`);
        assert.equal(res.headers['content-type'], 'application/json');
        // Compared as parsed JSON written again, so that key order counts too.
        assert.equal(JSON.stringify(res.json()), JSON.stringify(asRemote(local.json<Doc>())), `API ${version}${query}`);
      }
    }
  }

  it('a single-platform image: the pulled document, every API version, with manifests=1; only its manifest and config are read', async () => {
    const ref = proxy.ref('lab/single:v1');
    proxy.resetCounts();
    const first = await remote(ref);
    assert.equal(first.status, 200, first.text);
    const img = single.images[0]!;
    assert.equal(proxy.count(blobPath(img.config.digest), 'GET'), 1);
    assert.equal(proxy.count(blobPath()), 1, JSON.stringify(proxy.requests.map((r) => `${r.method} ${r.path}`)));
    for (const layer of img.layers) assert.equal(proxy.count(blobPath(layer.digest)), 0, `layer ${layer.digest} requested`);
    assert.equal(proxy.count(manifestPath(single.id), 'GET'), 1);

    const doc = first.json<Doc>();
    assert.equal(doc.Id, single.id);
    assert.deepEqual(doc.RepoTags, [ref]);
    assert.deepEqual(doc.RepoDigests, [`${proxy.host}/lab/single@${single.id}`]);
    assert.deepEqual((doc.RootFS as { Layers: string[] }).Layers, img.diffIds);
    assert.equal((doc.Config as { Labels: Record<string, string> }).Labels['org.opencontainers.image.title'], 'lading single');
    assert.deepEqual(doc.Metadata, { LastTagTime: '0001-01-01T00:00:00Z' });

    proxy.resetCounts();
    await withPulled(ref, [], (p) => assertSameAsPulled(p, ref, ['', '&manifests=1']));
    assert.equal(blobFiles(d).length, 0);
  });

  it('a multi-platform image: the host\'s platform as a pull picks it, manifests=1; no layer of any platform is requested', async () => {
    const ref = proxy.ref('lab/multi:v1');
    proxy.resetCounts();
    await withPulled(ref, [], (p) => assertSameAsPulled(p, ref, ['', '&manifests=1']));
    const pulledBlobs = proxy.count(blobPath(), 'GET');
    proxy.resetCounts();
    const res = await remote(ref, '&manifests=1');
    assert.equal(res.status, 200, res.text);
    const doc = res.json<{ Id: string; Manifests: Array<{ ID: string; Available: boolean; Kind: string }> }>();
    assert.equal(doc.Id, multi.id);
    // Available: the one platform manifest a pull would take (its config read, its layers listed, not fetched).
    assert.equal(doc.Manifests.filter((m) => m.Available).length, 1);
    assert.equal(doc.Manifests.length, multi.images.length + (multi.attestation ? 1 : 0));
    const layers = multi.images.flatMap((i) => i.layers).concat(multi.attestation?.layers ?? []);
    for (const layer of layers) assert.equal(proxy.count(blobPath(layer.digest)), 0, `layer ${layer.digest} requested`);
    assert.equal(proxy.count(blobPath(), 'GET'), 1, 'the config only');
    assert.ok(pulledBlobs > 1, 'the pull itself did fetch layers');
  });

  it('platform=: that platform\'s manifest as after docker pull --platform, every version that reads it', async () => {
    const ref = proxy.ref('lab/multi:v1');
    const arm64 = multi.images.find((i) => i.platform.architecture === 'arm64')!;
    // Only from API 1.49, which reads platform=; below it (and with manifests=1, which excludes platform=) the
    // host's platform is inspected, as after a plain pull (checked above), while this daemon holds arm64 only.
    await withPulled(ref, ['--platform', 'linux/arm64'], (p) => assertSameAsPulled(p, ref, [`&platform=${ARM64}`], ['1.49', '1.50', '1.51']));
    const res = await remote(ref, `&platform=${ARM64}`);
    assert.equal(res.json<Doc>().Id, arm64.manifest.digest);
    assert.equal(res.json<Doc>().Architecture, 'arm64');
    // Below API 1.49 platform= is ignored, as for a local image: the host's platform.
    const old = await remote(ref, `&platform=${ARM64}`, '1.48');
    assert.equal(old.json<Doc>().Id, multi.id);
  });

  it('by digest: the pulled-by-digest document', async () => {
    const ref = proxy.ref(`lab/multi@${multi.id}`);
    await withPulled(ref, [], (p) => assertSameAsPulled(p, ref, ['', '&manifests=1']));
    const doc = (await remote(ref)).json<Doc>();
    assert.deepEqual(doc.RepoDigests, [ref]);
  });

  it('nothing is kept: no blob, no image, no event; a local inspect still finds nothing', async () => {
    assert.deepEqual(blobFiles(d), []);
    const list = await d.request('/v1.51/images/json?all=1');
    assert.deepEqual(list.json(), []);
    const images = await d.docker(['images', '-q']);
    assert.equal(images.stdout, '');
    const local = await d.request(`/v1.51/images/${proxy.ref('lab/single:v1')}/json`);
    assert.equal(local.status, 404);
    const off = await d.request(`/v1.51/images/${proxy.ref('lab/single:v1')}/json?remote=0`);
    assert.equal(off.status, 404, 'remote=0 is a local inspect');
    const events = await d.request(`/v1.51/events?since=0&until=${Math.ceil(Date.now() / 1000)}`);
    if (events.status === 200) assert.equal(events.text, '');
  });

  it('never answered from the response cache: a moved tag is seen at once', async () => {
    const ref = proxy.ref('lab/moving:v1');
    await reg.push(single, 'lab/moving:v1');
    assert.equal((await remote(ref)).json<Doc>().Id, single.id);
    await reg.push(multi, 'lab/moving:v1', { all: true });
    assert.equal((await remote(ref)).json<Doc>().Id, multi.id);
  });

  it('errors: a pull\'s texts for a missing tag, repository or platform; inspect\'s for bad arguments', async () => {
    for (const name of ['lab/single:nope', 'lab/nope:v1']) {
      const ref = proxy.ref(name);
      const res = await remote(ref);
      assert.equal(res.status, 404, res.text);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(res.json(), { message: `failed to resolve reference "${ref}": ${ref}: not found` });
    }
    const s390x = await remote(proxy.ref('lab/multi:v1'), `&platform=${encodeURIComponent('{"os":"linux","architecture":"s390x"}')}`);
    assert.equal(s390x.status, 404, s390x.text);
    assert.deepEqual(s390x.json(), {
      message: 'no matching manifest for linux/s390x in the manifest list entries: no match for platform in manifest: not found',
    });
    // A single manifest of another platform: inspect's own text, as for a local image.
    const single390 = await remote(proxy.ref('lab/single:v1'), `&platform=${encodeURIComponent('{"os":"linux","architecture":"s390x"}')}`);
    assert.equal(single390.status, 404, single390.text);
    assert.deepEqual(single390.json(), {
      message: `image with reference ${proxy.ref('lab/single:v1')} was found but does not provide the specified platform (linux/s390x)`,
    });

    // Bytes that do not match their digest: refused as a pull refuses them, nothing kept.
    const config = single.images[0]!.config;
    const wrong = proxy.inject({ path: blobPath(config.digest), fault: { kind: 'wrong-body' } });
    const corrupt = await remote(proxy.ref('lab/single:v1'));
    wrong.remove();
    assert.equal(corrupt.status, 400, corrupt.text);
    assert.match(corrupt.json<{ message: string }>().message, new RegExp(`unexpected commit digest sha256:[0-9a-f]{64}, expected ${config.digest}`));
    assert.deepEqual(blobFiles(d), []);

    const upper = await remote('lab/UPPER');
    assert.equal(upper.status, 400);
    assert.deepEqual(upper.json(), { message: 'invalid reference format: repository name (lab/UPPER) must be lowercase' });
    const id = await remote(single.id.slice(7));
    assert.equal(id.status, 400);
    assert.deepEqual(id.json(), { message: 'no manifest found for full image ID' });
    const both = await remote(proxy.ref('lab/multi:v1'), `&manifests=1&platform=${ARM64}`);
    assert.equal(both.status, 400);
    assert.deepEqual(both.json(), { message: 'conflicting options: manifests and platform options cannot both be set' });
    const badPlatform = await remote(proxy.ref('lab/multi:v1'), '&platform=%7B');
    assert.equal(badPlatform.status, 400);
    assert.match(badPlatform.json<{ message: string }>().message, /^failed to parse platform: /);
  });

  it('htpasswd over TLS: X-Registry-Auth as a pull takes it; without it, or wrong, a 401', async () => {
    const hreg = await Registry.start({ mode: 'htpasswd' });
    try {
      await hreg.push(multi, 'lab/private:v1', { all: true });
      const ref = hreg.ref('lab/private:v1');
      const anonymous = await remote(ref);
      assert.equal(anonymous.status, 401, anonymous.text);
      assert.equal(
        anonymous.json<{ message: string }>().message,
        `failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`,
      );
      const wrong = await remote(ref, '', '1.51', { 'X-Registry-Auth': base64url({ username: 'lading', password: 'nope', serveraddress: hreg.host }) });
      assert.equal(wrong.status, 401, wrong.text);
      assert.match(wrong.json<{ message: string }>().message, /^unknown: failed to resolve reference ".*": unexpected status from HEAD request to https:\/\/.*: 401 Unauthorized$/);
      const auth = base64url({ username: 'lading', password: 'lading-secret', serveraddress: hreg.host });
      const res = await remote(ref, '&manifests=1', '1.51', { 'X-Registry-Auth': auth });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json<Doc>().Id, multi.id);
      assert.ok(!d.logs(1 << 20).includes('lading-secret'), 'the password is in no log line');
    } finally {
      await hreg.stop();
    }
  });

  it('token auth: anonymous is a pull\'s "pull access denied" (404); with credentials, the document', async () => {
    const treg = await Registry.start({ mode: 'token', token: { anonymous: 'empty' } });
    try {
      await treg.push(single, 'lab/single:v1');
      const ref = treg.ref('lab/single:v1');
      const anonymous = await remote(ref);
      assert.equal(anonymous.status, 404, anonymous.text);
      assert.deepEqual(anonymous.json(), {
        message: `pull access denied for ${treg.host}/lab/single, repository does not exist or may require 'docker login'`,
      });
      const auth = base64url({ username: 'lading', password: 'lading-secret', serveraddress: treg.host });
      const res = await remote(ref, '', '1.51', { 'X-Registry-Auth': auth });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json<Doc>().Id, single.id);
    } finally {
      await treg.stop();
    }
  });

  it('dockerode and docker-py can ask for it', async () => {
    const ref = proxy.ref('lab/multi:v1');
    const docker = new Dockerode({ socketPath: d.socket });
    // dockerode's image.inspect() sends no query; its modem does, given a path that ends in `?`.
    const info = await new Promise<{ Id: string }>((resolve, reject) =>
      docker.modem.dial(
        { path: `/images/${ref}/json?`, method: 'GET', options: { remote: 1 }, statusCodes: { 200: true, 404: 'no such image' } },
        (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as { Id: string })),
      ),
    );
    assert.equal(info.Id, multi.id);
    const py = await d.pythonJson<{ Id: string }>(
      `api = client.api\nprint(json.dumps(api._result(api._get(api._url('/images/{0}/json', ${JSON.stringify(ref)}), params={'remote': 1}), True)))`,
    );
    assert.equal(py.Id, multi.id);
    assert.deepEqual(blobFiles(d), []);
  });
});
