// Pull, push, save and load at API 1.52+ (Docker 29.7) beside 1.51 (Docker 28.5), over raw HTTP and
// docker-py pinned to 1.55: the attestations a pull brings, the streams' progress bars, and several
// `platform` values for save and load.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Daemon } from '../support/daemon.js';
import { hex, multiPlatformImage, ociArchive, SLSA_PREDICATE, SPDX_PREDICATE, untar, type ImageFixture } from '../support/images.js';
import { blobPath, FaultProxy, UPLOAD_PATH } from '../support/fault-proxy.js';
import { RegistryFixture } from '../support/registry-fixture.js';

type Message = Record<string, unknown>;
const lines = (text: string): Message[] => text.split('\r\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Message);

describe('pull, push, save and load at API 1.52+ as Docker 29.7', { timeout: 300_000 }, () => {
  let fx: RegistryFixture;
  let d: Daemon;
  let attested: ImageFixture;
  let ref: string;

  before(async () => {
    attested = await multiPlatformImage({ repo: 'lading-attested29', sbom: true });
    fx = await RegistryFixture.start();
    d = fx.d;
    await fx.reg.push(attested, 'lab/attested29:v1', { all: true });
    ref = fx.reg.ref('lab/attested29');
  });
  after(async () => {
    await fx?.stop();
  });

  const pull = async (version: string): Promise<Message[]> => {
    const res = await d.request(`/v${version}/images/create?fromImage=${encodeURIComponent(ref)}&tag=v1`, { method: 'POST', timeoutMs: 120_000 });
    assert.equal(res.status, 200, res.text);
    assert.doesNotMatch(res.text, /"error"/, res.text);
    return lines(res.text);
  };
  const attestations = (): Promise<{ status: number; text: string }> =>
    d.request(`/v1.55/images/${encodeURIComponent(`${ref}:v1`)}/attestations?statement=1`);

  it('a pull at 1.52+ fetches the attestation of the pulled platform; at 1.51, as Docker 28.5, it does not', async () => {
    const statements = attested.attestation?.layers ?? [];
    assert.equal(statements.length, 2);

    // 1.51: only the image; the attestation manifest is not here, so its statements are not either.
    const old = await pull('1.51');
    for (const s of statements) assert.ok(!old.some((m) => m.id === hex(s.digest).slice(0, 12)), 'no statement line at 1.51');
    const missing = await attestations();
    assert.equal(missing.status, 404, missing.text);

    // Once removed (its blobs collected), pulled again at 1.52: the statements come too, each with its
    // Download complete line (no Pulling fs layer: they are not layers).
    assert.equal((await d.request(`/v1.51/images/${encodeURIComponent(`${ref}:v1`)}`, { method: 'DELETE' })).status, 200);
    const now = await pull('1.52');
    for (const s of statements) {
      const id = hex(s.digest).slice(0, 12);
      assert.ok(now.some((m) => m.id === id && m.status === 'Download complete'), `${id}: Download complete\n${JSON.stringify(now)}`);
      assert.ok(!now.some((m) => m.id === id && m.status === 'Pulling fs layer'));
    }
    const res = await attestations();
    assert.equal(res.status, 200, res.text);
    const listed = JSON.parse(res.text) as Array<{ PredicateType: string; Statement: { predicateType: string } }>;
    assert.deepEqual(listed.map((a) => a.PredicateType), [SPDX_PREDICATE, SLSA_PREDICATE]);
    assert.deepEqual(listed.map((a) => a.Statement.predicateType), [SPDX_PREDICATE, SLSA_PREDICATE]);

    // Garbage collection keeps the pulled attestation manifest and statements while the image is
    // here (a prune of dangling images runs a sweep), and collects them with it.
    const stored = (digest: string): boolean => existsSync(path.join(d.dataRoot, 'content', 'blobs', 'sha256', hex(digest)));
    const attestationBlobs = [attested.attestation?.manifest.digest ?? '', ...statements.map((s) => s.digest)];
    assert.equal(attestationBlobs.length, 3);
    assert.equal((await d.request('/v1.52/images/prune', { method: 'POST' })).status, 200);
    for (const digest of attestationBlobs) assert.ok(stored(digest), `${digest} kept while the image is here`);
    assert.equal((await d.request(`/v1.52/images/${encodeURIComponent(`${ref}:v1`)}`, { method: 'DELETE' })).status, 200);
    for (const digest of attestationBlobs) assert.ok(!stored(digest), `${digest} collected with the image`);
    await pull('1.52');
  });

  it('docker-py pinned to 1.55: pull, then the statements of the pulled image', async () => {
    const name = fx.reg.ref('lab/attested29-py');
    await fx.reg.push(attested, 'lab/attested29-py:v1', { all: true });
    // Nothing of the image is here under that name's blobs once the first test's image is gone.
    await d.request(`/v1.51/images/${encodeURIComponent(`${ref}:v1`)}`, { method: 'DELETE' });
    const out = await d.pythonJson<{ atts: Array<{ PredicateType: string; Statement?: unknown }> }>(
      `import os\napi = docker.APIClient(base_url=os.environ['DOCKER_HOST'], version='1.55')\n` +
        `for _ in api.pull(${JSON.stringify(name)}, tag='v1', stream=True, decode=True): pass\n` +
        `atts = api._result(api._get(api._url('/images/{0}/attestations', ${JSON.stringify(`${name}:v1`)}), params={'statement': '1'}), True)\n` +
        `print(json.dumps({"atts": atts}))`,
      { timeoutMs: 120_000 },
    );
    assert.deepEqual(out.atts.map((a) => a.PredicateType), [SPDX_PREDICATE, SLSA_PREDICATE]);
    assert.ok(out.atts.every((a) => typeof a.Statement === 'object' && a.Statement !== null));
  });

  it('pull streams: the progress bar beside progressDetail up to 1.51, none at 1.52; an error still carries error beside errorDetail', async () => {
    const single = fx.single;
    const name = encodeURIComponent(fx.proxy.ref('lab/single'));
    const layer = single.images[0]?.layers[0];
    assert.ok(layer);
    const downloading = async (version: string): Promise<Message[]> => {
      // A layer sent a byte every 300 ms: the 100 ms tick reports it Downloading with an offset.
      const slow = fx.proxy.inject({ path: blobPath(layer.digest), fault: { kind: 'trickle', bytes: 3, everyMs: 300 }, times: 1 });
      try {
        const res = await d.request(`/v${version}/images/create?fromImage=${name}&tag=v1`, { method: 'POST', timeoutMs: 120_000 });
        assert.equal(res.status, 200, res.text);
        await d.request(`/v1.51/images/${name}:v1`, { method: 'DELETE' });
        const msgs = lines(res.text).filter((m) => m.status === 'Downloading');
        assert.ok(msgs.length > 0, res.text);
        return msgs;
      } finally {
        slow.remove();
      }
    };
    for (const m of await downloading('1.51')) {
      assert.ok((m.progressDetail as { current: number }).current > 0);
      assert.match(String(m.progress), /^\[=*>\s*\] +\S+\/\S+$/);
    }
    for (const m of await downloading('1.52')) {
      assert.ok((m.progressDetail as { current: number }).current > 0);
      assert.ok(!('progress' in m), JSON.stringify(m));
    }

    const bad = fx.proxy.inject({ path: blobPath(layer.digest), fault: { kind: 'wrong-body' } });
    try {
      const res = await d.request(`/v1.52/images/create?fromImage=${name}&tag=v1`, { method: 'POST', timeoutMs: 120_000 });
      const last = lines(res.text).at(-1) ?? {};
      assert.equal(typeof last.error, 'string', res.text);
      assert.deepEqual(last.errorDetail, { message: last.error });
    } finally {
      bad.remove();
    }
  });

  it('push streams: Pushing carries the progress bar up to 1.51, none at 1.52', async () => {
    // Pulled from the registry's own address, pushed through the proxy's: no source to mount from.
    const from = fx.reg.ref('lab/single');
    const pulled = await d.request(`/v1.51/images/create?fromImage=${encodeURIComponent(from)}&tag=v1`, { method: 'POST', timeoutMs: 120_000 });
    assert.equal(pulled.status, 200, pulled.text);
    const pushing = async (version: string, proxy: FaultProxy): Promise<Message[]> => {
      const target = proxy.ref(`lab/pushed${version.replace('.', '')}`);
      const tag = await d.request(`/v1.51/images/${encodeURIComponent(`${from}:v1`)}/tag?repo=${encodeURIComponent(target)}&tag=v1`, { method: 'POST' });
      assert.equal(tag.status, 201, tag.text);
      // The upload's last request held back: the 100 ms tick reports the bytes sent meanwhile.
      const slow = proxy.inject({ path: UPLOAD_PATH, method: 'PUT', fault: { kind: 'delay', ms: 400 } });
      try {
        const res = await d.request(`/v${version}/images/${encodeURIComponent(target)}/push?tag=v1`, { method: 'POST', headers: { 'X-Registry-Auth': 'e30=' }, timeoutMs: 120_000 });
        assert.equal(res.status, 200, res.text);
        assert.doesNotMatch(res.text, /"error"/, res.text);
        const msgs = lines(res.text).filter((m) => m.status === 'Pushing' && (m.progressDetail as { current?: number }).current);
        assert.ok(msgs.length > 0, res.text);
        return msgs;
      } finally {
        slow.remove();
      }
    };
    for (const m of await pushing('1.51', fx.proxy)) assert.match(String(m.progress), /^\[=*>\s*\] +\S+\/\S+$/);
    // A second address of the registry: nothing pushed there yet to mount from.
    const other = await FaultProxy.start({ upstream: fx.reg });
    try {
      for (const m of await pushing('1.52', other)) assert.ok(!('progress' in m), JSON.stringify(m));
    } finally {
      await other.stop();
    }
  });

  it('save and load: several platform values at 1.52 (Docker 29.7), a 400 at 1.51 (Docker 28.5)', async () => {
    const multi = fx.multi;
    const archive = readFileSync(await ociArchive(multi));
    const amd64 = JSON.stringify({ os: 'linux', architecture: 'amd64' });
    const arm64 = JSON.stringify({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    const q = (...platforms: string[]): string => platforms.map((p) => `&platform=${encodeURIComponent(p)}`).join('');
    const load = (version: string, query: string): Promise<{ status: number; text: string }> =>
      d.request(`/v${version}/images/load?quiet=1${query}`, { method: 'POST', body: archive, timeoutMs: 120_000 });

    const refused = { status: 400, text: '{"message":"multiple platform parameters not supported"}\n' };
    const old = await load('1.51', q(amd64, arm64));
    assert.deepEqual({ status: old.status, text: old.text }, refused);
    const loaded = await load('1.52', q(amd64, arm64));
    assert.equal(loaded.status, 200, loaded.text);
    // An image passes with any one of the platforms whole (29.7's verifyImagesProvidePlatform); with
    // none of them, 29.7's words name the list.
    assert.equal((await load('1.52', q(amd64, JSON.stringify({ os: 'linux', architecture: 's390x' })))).status, 200);
    const none = await load('1.52', q(JSON.stringify({ os: 'linux', architecture: 's390x' }), JSON.stringify({ os: 'linux', architecture: 'ppc64le' })));
    assert.equal(none.status, 404, none.text);
    assert.match(none.text, /was loaded, but doesn't provide the requested platform \(\[linux\/s390x linux\/ppc64le\]\)/);

    const save = async (version: string, query: string): Promise<{ status: number; body: Buffer }> => {
      const res = await d.request(`/v${version}/images/get?names=${encodeURIComponent(multi.familiar)}${query}`, { timeoutMs: 120_000 });
      return { status: res.status, body: res.body };
    };
    const oldSave = await save('1.51', q(amd64, arm64));
    assert.deepEqual({ status: oldSave.status, text: oldSave.body.toString() }, refused);
    const blobsOf = async (query: string): Promise<string[]> => {
      const res = await save('1.52', query);
      assert.equal(res.status, 200, res.body.toString());
      return [...(await untar(res.body)).keys()];
    };
    const [amdManifest, armManifest] = multi.images.map((i) => `blobs/sha256/${hex(i.manifest.digest)}`);
    const both = await blobsOf(q(amd64, arm64));
    assert.ok(both.includes(amdManifest!) && both.includes(armManifest!), both.join('\n'));
    assert.ok(both.includes(`blobs/sha256/${hex(multi.target.digest)}`), 'the index goes in whole');
    const one = await blobsOf(q(arm64));
    assert.ok(one.includes(armManifest!) && !one.includes(amdManifest!), one.join('\n'));
  });
});
