// `docker pull` against ladingd from loopback registries (Debian's docker-registry, filled with skopeo), through
// the harness's fault proxy where requests are counted or faults injected: what the CLI prints, what the raw stream
// says, what inspect shows afterwards, what is (not) fetched, and that no bad blob ever lands in the store.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { buildTar } from '../../src/archive/testing/archive-builder.js';
import { lines, ok, short, streamMessages } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import type { RunResult } from '../support/exec.js';
import { blobPath, FaultProxy, manifestPath } from '../support/fault-proxy.js';
import { MT, sha256, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { RegistryFixture } from '../support/registry-fixture.js';
import { Registry } from '../support/registry.js';

/** Every blob file under the data root is named by the sha256 of its bytes. */
function assertStoreSound(d: Daemon): string[] {
  const dir = path.join(d.dataRoot, 'content', 'blobs', 'sha256');
  const names = readdirSync(dir);
  for (const name of names) {
    const actual = createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex');
    assert.equal(actual, name, `blob ${name} in the store does not match its digest`);
  }
  return names.map((n) => `sha256:${n}`);
}

/**
 * An OCI layout whose image shares the first (busybox) layer of `base` and adds one of its own: what a second
 * image built FROM the same base looks like.
 */
async function derivedLayout(base: ImageFixture, marker: string): Promise<{ dir: string; manifest: string; ownLayer: string }> {
  const img = base.images[0]!;
  const dir = tempDir(`derived-${marker}`);
  const blobs = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer): { digest: string; size: number } => {
    const digest = sha256(data);
    writeFileSync(path.join(blobs, digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const baseLayer = img.layers[0]!;
  writeFileSync(path.join(blobs, baseLayer.digest.slice(7)), readFileSync(path.join(base.layoutDir, 'blobs', 'sha256', baseLayer.digest.slice(7))));
  const tar = await buildTar([
    { name: 'srv/', type: 'directory' },
    { name: 'srv/derived.txt', type: 'file', data: `derived ${marker}\n` },
  ]);
  const own = { mediaType: MT.layerGzip, ...put(gzipSync(tar)) };
  const config = {
    ...img.configJson,
    config: { ...img.configJson.config, Labels: { 'com.example.derived': marker } },
    rootfs: { type: 'layers', diff_ids: [img.diffIds[0], sha256(tar)] },
    history: [{ created_by: 'FROM base' }, { created_by: `COPY derived-${marker}` }],
  };
  const configDesc = { mediaType: MT.config, ...put(Buffer.from(JSON.stringify(config))) };
  const manifest = { schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers: [baseLayer, own] };
  const manifestDesc = { mediaType: MT.manifest, ...put(Buffer.from(JSON.stringify(manifest))) };
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
  return { dir, manifest: manifestDesc.digest, ownLayer: own.digest };
}

describe('docker pull', { timeout: 600_000 }, () => {
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

  it('pulls by tag: Docker\'s progress lines, then inspect shows the image with its RepoDigests', async () => {
    proxy.resetCounts();
    const ref = proxy.ref('lab/single:v1');
    const res = ok(await d.docker(['pull', ref]), `docker pull ${ref}`, d);
    const out = lines(res.stdout);
    const img = single.images[0]!;
    assert.equal(out[0], 'v1: Pulling from lab/single');
    for (const layer of img.layers) {
      const id = short(layer.digest);
      const at = (s: string): number => out.indexOf(`${id}: ${s}`);
      assert.ok(at('Pulling fs layer') > 0, `${id}: Pulling fs layer\n${res.stdout}`);
      assert.ok(at('Download complete') > at('Pulling fs layer'), `${id}: Download complete after Pulling fs layer\n${res.stdout}`);
      assert.ok(at('Pull complete') > at('Download complete'), `${id}: Pull complete last\n${res.stdout}`);
    }
    assert.deepEqual(out.slice(-3), [`Digest: ${single.id}`, `Status: Downloaded newer image for ${ref}`, ref]);
    assert.equal(res.stderr, '');

    const [doc] = JSON.parse(ok(await d.docker(['image', 'inspect', ref]), 'inspect').stdout) as Array<Record<string, unknown>>;
    assert.equal(doc?.Id, single.id);
    assert.deepEqual(doc?.RepoTags, [ref]);
    assert.deepEqual(doc?.RepoDigests, [`${proxy.host}/lab/single@${single.id}`]);
    assert.deepEqual((doc?.RootFS as { Layers: string[] }).Layers, img.diffIds);

    // Each blob once; the manifest resolved with HEAD, then fetched by digest.
    for (const blob of [img.config, ...img.layers]) assert.equal(proxy.count(blobPath(blob.digest), 'GET'), 1, blob.digest);
    assert.equal(proxy.count(manifestPath('v1'), 'HEAD'), 1);
    assert.equal(proxy.count(manifestPath(single.id), 'GET'), 1);
    assertStoreSound(d);
  });

  it('pulls again: up to date, no layer lines, no blob fetched', async () => {
    proxy.resetCounts();
    const ref = proxy.ref('lab/single:v1');
    const res = ok(await d.docker(['pull', ref]), 'second pull', d);
    assert.deepEqual(lines(res.stdout), [
      'v1: Pulling from lab/single',
      `Digest: ${single.id}`,
      `Status: Image is up to date for ${ref}`,
      ref,
    ]);
    assert.equal(proxy.count(blobPath(), 'GET'), 0);
  });

  it('pulls by digest', async () => {
    const ref = proxy.ref(`lab/single@${single.id}`);
    const res = ok(await d.docker(['pull', ref]), `docker pull ${ref}`, d);
    assert.deepEqual(lines(res.stdout), [
      `${ref}: Pulling from lab/single`,
      `Digest: ${single.id}`,
      `Status: Downloaded newer image for ${ref}`,
      ref,
    ]);
    const [doc] = JSON.parse(ok(await d.docker(['image', 'inspect', ref]), 'inspect').stdout) as Array<Record<string, unknown>>;
    assert.equal(doc?.Id, single.id);
    assert.ok((doc?.RepoDigests as string[]).includes(`${proxy.host}/lab/single@${single.id}`));
  });

  it('a base layer shared with an image already held is not fetched again, nor shown', async () => {
    const derived = await derivedLayout(single, 'shared');
    await reg.push(derived.dir, 'lab/derived:v1');
    proxy.resetCounts();
    const ref = proxy.ref('lab/derived:v1');
    const res = ok(await d.docker(['pull', ref]), `docker pull ${ref}`, d);
    const base = single.images[0]!.layers[0]!.digest;
    const out = lines(res.stdout);
    // Docker's unpacker skips a layer whose chain is already unpacked: no line at all for it.
    assert.ok(!out.some((l) => l.startsWith(short(base))), res.stdout);
    assert.ok(out.includes(`${short(derived.ownLayer)}: Pull complete`), res.stdout);
    assert.equal(proxy.count(blobPath(base), 'GET'), 0, 'the shared layer is not requested');
    assert.equal(proxy.count(blobPath(derived.ownLayer), 'GET'), 1);
  });

  it('two concurrent pulls of images sharing a layer fetch that layer once', async () => {
    const a = await derivedLayout(multi, 'concurrent-a');
    const b = await derivedLayout(multi, 'concurrent-b');
    await reg.push(a.dir, 'lab/concurrent-a:v1');
    await reg.push(b.dir, 'lab/concurrent-b:v1');
    const fresh = await Daemon.start();
    try {
      proxy.resetCounts();
      // Slow blobs a little so that both pulls are in flight together.
      const slow = proxy.inject({ path: blobPath(), fault: { kind: 'delay', ms: 150 } });
      const [ra, rb] = await Promise.all([
        fresh.docker(['pull', proxy.ref('lab/concurrent-a:v1')]),
        fresh.docker(['pull', proxy.ref('lab/concurrent-b:v1')]),
      ]);
      slow.remove();
      ok(ra, 'pull a', fresh);
      ok(rb, 'pull b', fresh);
      const shared = multi.images[0]!.layers[0]!.digest;
      assert.equal(proxy.count(blobPath(shared), 'GET'), 1, 'the shared layer is fetched once');
      assert.equal(proxy.count(blobPath(a.ownLayer), 'GET'), 1);
      assert.equal(proxy.count(blobPath(b.ownLayer), 'GET'), 1);
      assertStoreSound(fresh);
    } finally {
      await fresh.stop();
    }
  });

  it('--all-tags pulls every tag of the repository', async () => {
    await reg.push(single, 'lab/all:a');
    await reg.push((await derivedLayout(single, 'all-tags')).dir, 'lab/all:b');
    const res = ok(await d.docker(['pull', '--all-tags', proxy.ref('lab/all')]), 'pull --all-tags', d);
    const out = lines(res.stdout);
    assert.ok(out.includes('a: Pulling from lab/all') && out.includes('b: Pulling from lab/all'), res.stdout);
    assert.ok(out.includes(`Status: Downloaded newer image for ${proxy.ref('lab/all:a')}`), res.stdout);
    assert.ok(out.includes(`Status: Downloaded newer image for ${proxy.ref('lab/all:b')}`), res.stdout);
    for (const tag of ['a', 'b']) ok(await d.docker(['image', 'inspect', proxy.ref(`lab/all:${tag}`)]), `inspect ${tag}`, d);
  });

  it('--platform linux/arm64 of a multi-platform image: the index and only that platform', async () => {
    proxy.resetCounts();
    const ref = proxy.ref('lab/multi:v1');
    const res = ok(await d.docker(['pull', '--platform', 'linux/arm64', ref]), 'pull --platform', d);
    assert.equal(lines(res.stdout)[0], 'v1: Pulling from lab/multi');
    assert.deepEqual(lines(res.stdout).slice(-2), [`Status: Downloaded newer image for ${ref}`, ref]);
    const [amd64, arm64] = multi.images;
    const info = await d.request(`/v1.51/images/${ref}/json?manifests=1`);
    assert.equal(info.status, 200, info.text);
    const doc = info.json<{ Id: string; RepoDigests: string[]; Manifests: Array<{ ID: string; Available: boolean; Kind: string }> }>();
    assert.equal(doc.Id, multi.id);
    assert.deepEqual(doc.RepoDigests, [`${proxy.host}/lab/multi@${multi.id}`]);
    const available = Object.fromEntries(doc.Manifests.map((m) => [m.ID, m.Available]));
    assert.deepEqual(available, {
      [amd64!.manifest.digest]: false,
      [arm64!.manifest.digest]: true,
      [multi.attestation!.manifest.digest]: false,
    });
    // Nothing of amd64 or the attestation was fetched.
    assert.equal(proxy.count(manifestPath(amd64!.manifest.digest)), 0);
    for (const blob of [amd64!.config, ...amd64!.layers]) assert.equal(proxy.count(blobPath(blob.digest)), 0);
    const arm = await d.request(`/v1.51/images/${ref}/json?platform=${encodeURIComponent('{"os":"linux","architecture":"arm64"}')}`);
    assert.equal(arm.json<{ Id: string }>().Id, arm64!.manifest.digest);
  });

  it('the raw stream: Docker\'s JSON messages, \\r\\n-separated', async () => {
    const fresh = await Daemon.start();
    try {
      const from = encodeURIComponent(proxy.ref('lab/single'));
      const res = await fresh.request(`/v1.51/images/create?fromImage=${from}&tag=v1`, { method: 'POST' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['content-type'], 'application/json');
      const msgs = streamMessages(res.text);
      assert.deepEqual(msgs[0], { status: 'Pulling from lab/single', id: 'v1' });
      const layer = short(single.images[0]!.layers[0]!.digest);
      assert.ok(res.text.includes(`{"status":"Pulling fs layer","progressDetail":{},"id":"${layer}"}\r\n`), res.text);
      assert.ok(res.text.includes(`{"status":"Download complete","progressDetail":{"hidecounts":true},"id":"${layer}"}\r\n`), res.text);
      assert.ok(res.text.includes(`{"status":"Pull complete","progressDetail":{"hidecounts":true},"id":"${layer}"}\r\n`), res.text);
      for (const m of msgs.filter((x) => x.status === 'Downloading')) {
        const detail = m.progressDetail as { current: number; total: number };
        assert.ok(detail.current > 0 && detail.total > 0, JSON.stringify(m));
        assert.match(String(m.progress), /^\[=*>\s*\] +\S+\/\S+$/);
      }
      assert.deepEqual(msgs.slice(-2), [
        { status: `Digest: ${single.id}` },
        { status: `Status: Downloaded newer image for ${proxy.ref('lab/single:v1')}` },
      ]);
      // The pull event: ID is the familiar reference, name the familiar repository, labels of the config.
      const events = await fresh.request(`/v1.51/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}`);
      if (events.status === 404) return; // a build without /events yet
      const pull = events.text
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } })
        .find((e) => e.Action === 'pull');
      assert.ok(pull, events.text);
      assert.equal(pull.Actor.ID, proxy.ref('lab/single:v1'));
      assert.equal(pull.Actor.Attributes.name, proxy.ref('lab/single'));
      assert.equal(pull.Actor.Attributes['org.opencontainers.image.title'], 'lading single');
    } finally {
      await fresh.stop();
    }
  });

  it('a missing repository or tag: exit 1 and Docker\'s text, before any stream', async () => {
    for (const name of ['lab/nope:v1', 'lab/single:nope']) {
      const ref = proxy.ref(name);
      const res = await d.docker(['pull', ref]);
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.equal(res.stderr.trim(), `Error response from daemon: failed to resolve reference "${ref}": ${ref}: not found`);
      const raw = await d.request(`/v1.51/images/create?fromImage=${encodeURIComponent(ref)}`, { method: 'POST' });
      assert.equal(raw.status, 404);
      assert.equal(raw.headers['content-type'], 'application/json');
    }
  });

  it('a platform the index lacks: 404 with Docker\'s text', async () => {
    const ref = proxy.ref('lab/multi:v1');
    const res = await d.docker(['pull', '--platform', 'linux/s390x', ref]);
    assert.equal(res.code, 1);
    assert.equal(
      res.stderr.trim(),
      'Error response from daemon: no matching manifest for linux/s390x in the manifest list entries: no match for platform in manifest: not found',
    );
  });

  it('bad query parameters are 400s with Docker\'s texts', async () => {
    const bad = await d.request(`/v1.51/images/create?fromImage=${encodeURIComponent(proxy.ref('lab/single'))}&tag=v1&platform=linux%2F*`, { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json<{ message: string }>().message, '"linux/*": wildcards not yet supported: invalid argument');
    const upper = await d.request('/v1.51/images/create?fromImage=Upper&tag=v1', { method: 'POST' });
    assert.equal(upper.status, 400);
    const scratch = await d.request('/v1.51/images/create?fromImage=scratch&tag=latest', { method: 'POST' });
    assert.equal(scratch.status, 403);
    assert.equal(scratch.json<{ message: string }>().message, "'scratch' is a reserved name");
  });

  it('--registry-mirror serves Docker Hub names (?ns=docker.io); /info reports mirrors and insecure registries', async () => {
    const hub = await Daemon.start({
      extraArgs: ['--registry-mirror', proxy.url, '--insecure-registry', '192.0.2.0/24', '--insecure-registry', 'registry.lab:5000'],
    });
    try {
      proxy.resetCounts();
      const res = ok(await hub.docker(['pull', 'lab/single:v1']), 'pull through the mirror', hub);
      assert.deepEqual(lines(res.stdout).slice(-3), [`Digest: ${single.id}`, 'Status: Downloaded newer image for lab/single:v1', 'docker.io/lab/single:v1']);
      const viaMirror = proxy.matching(manifestPath('v1'));
      assert.ok(viaMirror.length > 0 && viaMirror.every((r) => r.query === '?ns=docker.io'), JSON.stringify(viaMirror));
      const info = (await hub.request('/v1.51/info')).json<{ RegistryConfig: unknown }>();
      assert.deepEqual(info.RegistryConfig, {
        IndexConfigs: {
          'docker.io': { Name: 'docker.io', Mirrors: [`${proxy.url}/`], Secure: true, Official: true },
          'registry.lab:5000': { Name: 'registry.lab:5000', Mirrors: [], Secure: false, Official: false },
        },
        InsecureRegistryCIDRs: ['192.0.2.0/24', '::1/128', '127.0.0.0/8'],
        Mirrors: [`${proxy.url}/`],
      });
    } finally {
      await hub.stop();
    }
  });

  it('docker-py and dockerode pull unchanged', async () => {
    const fresh = await Daemon.start();
    try {
      const py = await fresh.pythonJson<{ id: string; tags: string[] }>(
        `img = client.images.pull('${proxy.ref('lab/single')}', tag='v1')\nprint(json.dumps({'id': img.id, 'tags': img.tags}))`,
      );
      assert.deepEqual(py, { id: single.id, tags: [proxy.ref('lab/single:v1')] });
      const docker = new Dockerode({ socketPath: fresh.socket });
      const stream = await docker.pull(proxy.ref('lab/multi:v1'), { platform: 'linux/arm64' });
      const messages = await new Promise<Array<{ status?: string }>>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null, out: Array<{ status?: string }>) => (err ? reject(err) : resolve(out))),
      );
      assert.equal(messages.at(-1)?.status, `Status: Downloaded newer image for ${proxy.ref('lab/multi:v1')}`);
      await assert.rejects(docker.pull(proxy.ref('lab/nope:v1')), (err: { statusCode?: number }) => err.statusCode === 404);
    } finally {
      await fresh.stop();
    }
  });

  describe('credentials', () => {
    async function login(host: string, user: string, password: string): Promise<RunResult> {
      return d.docker(['login', host, '-u', user, '--password-stdin'], { input: Buffer.from(password + '\n') });
    }

    it('htpasswd over TLS: refused anonymously, pulled after docker login; a redirect gets no credentials', async () => {
      const hreg = await Registry.start({ mode: 'htpasswd' });
      const hproxy = await FaultProxy.start({ upstream: hreg });
      try {
        // Content this daemon does not hold yet, so that blobs are fetched.
        const own = await derivedLayout(multi, 'htpasswd');
        await hreg.push(own.dir, 'lab/single:v1');
        const ref = hproxy.ref('lab/single:v1');
        const anonymous = await d.docker(['pull', ref]);
        assert.equal(anonymous.code, 1);
        assert.equal(
          anonymous.stderr.trim(),
          `Error response from daemon: failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`,
        );
        const wrong = await login(hproxy.host, 'lading', 'wrong');
        assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
        // Docker tries HTTPS, then (insecure registry) plain HTTP, and reports the last failure.
        assert.match(wrong.stderr, /Error response from daemon: (login attempt to https?:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: \d+ |Get "http:\/\/127\.0\.0\.1:\d+\/v2\/": )/);
        const good = ok(await login(hproxy.host, 'lading', 'lading-secret'), 'docker login', d);
        assert.match(good.stdout, /Login Succeeded/);

        hproxy.resetCounts();
        hproxy.inject({ path: blobPath(), fault: { kind: 'redirect' } });
        ok(await d.docker(['pull', ref]), 'pull after login', d);
        const blobGets = hproxy.matching(blobPath(), 'GET');
        assert.ok(blobGets.length >= 2, JSON.stringify(blobGets));
        for (const r of blobGets) assert.match(r.authorization ?? '', /^Basic /);
        assert.equal(hproxy.redirected.length, blobGets.length);
        for (const r of hproxy.redirected) assert.equal(r.authorization, undefined, 'credentials stay with their host');
        ok(await d.docker(['logout', hproxy.host]), 'logout', d);
        // The password, plain or as a Basic header, is in no log line (debug level) and no file of the store.
        const secrets = ['lading-secret', Buffer.from('lading:lading-secret').toString('base64')];
        const log = d.logs(1 << 20);
        for (const secret of secrets) {
          assert.ok(!log.includes(secret), `the daemon log holds ${secret}`);
          assert.deepEqual(filesHolding(d.dataRoot, secret), [], `files of the data root hold ${secret}`);
        }
      } finally {
        await hproxy.stop();
        await hreg.stop();
      }
    });

    it('token auth: OAuth password grant for the pull scope, tokens reused; anonymous pulls denied with Docker\'s text', async () => {
      const treg = await Registry.start({ mode: 'token', token: { anonymous: 'empty' } });
      try {
        await treg.push(single, 'lab/single:v1');
        const ref = treg.ref('lab/single:v1');
        const anonymous = await d.docker(['pull', ref]);
        assert.equal(anonymous.code, 1);
        assert.equal(
          anonymous.stderr.trim(),
          `Error response from daemon: pull access denied for ${treg.host}/lab/single, repository does not exist or may require 'docker login'`,
        );
        ok(await login(treg.host, 'lading', 'lading-secret'), 'docker login', d);
        treg.issuer!.requests.length = 0;
        const res = ok(await d.docker(['pull', ref]), 'pull with a token', d);
        assert.match(res.stdout, /Status: Downloaded newer image for /);
        const grants = treg.issuer!.requests.filter((r) => r.status === 200);
        assert.ok(grants.length >= 1, JSON.stringify(treg.issuer!.requests));
        // One token for the whole pull (cached per scope); containerd's OAuth form first.
        assert.equal(grants.length, 1, JSON.stringify(grants.map((g) => [g.method, g.scopes])));
        assert.equal(grants[0]!.method, 'POST');
        assert.equal(grants[0]!.grantType, 'password');
        assert.equal(grants[0]!.clientId, 'containerd-client');
        assert.deepEqual(grants[0]!.scopes, ['repository:lab/single:pull']);
        assert.equal(grants[0]!.user, 'lading');
        // Logged in, a missing repository is the registry's 404.
        const missing = await d.docker(['pull', treg.ref('lab/nope:v1')]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /: not found$/m);
        ok(await d.docker(['logout', treg.host]), 'logout', d);
      } finally {
        await treg.stop();
      }
    });
  });

  describe('faults', () => {
    let fd: Daemon;
    before(async () => {
      fd = await Daemon.start();
    });
    after(() => fd?.stop());
    async function pullFails(name: string): Promise<RunResult> {
      const res = await fd.docker(['pull', proxy.ref(name)]);
      assert.equal(res.code, 1, `pull ${name} should fail\n${res.stdout}\n${res.stderr}`);
      return res;
    }

    it('wrong digest of a layer: a clear error, nothing kept', async () => {
      proxy.clearFaults();
      const layer = single.images[0]!.layers[1]!;
      proxy.inject({ path: blobPath(layer.digest), fault: { kind: 'wrong-body' } });
      const res = await pullFails('lab/single:v1');
      assert.match(res.stderr, new RegExp(`failed commit on ref "layer-${layer.digest}": unexpected commit digest sha256:[0-9a-f]{64}, expected ${layer.digest}: failed precondition`));
      proxy.clearFaults();
      const held = assertStoreSound(fd);
      assert.ok(!held.includes(layer.digest));
      // What this failed pull fetched went with it.
      assert.deepEqual(held, []);
    });

    it('a blob cut short is resumed with Range', async () => {
      proxy.clearFaults();
      proxy.resetCounts();
      const layer = single.images[0]!.layers[0]!;
      proxy.inject({ path: blobPath(layer.digest), fault: { kind: 'truncate' }, times: 1 });
      ok(await fd.docker(['pull', proxy.ref('lab/single:v1')]), 'pull after a cut', fd);
      const gets = proxy.matching(blobPath(layer.digest), 'GET');
      assert.equal(gets.length, 2, JSON.stringify(gets));
      assert.match(gets[1]!.range ?? '', /^bytes=\d+-$/);
      assert.equal(gets[1]!.status, 206);
      assertStoreSound(fd);
    });

    it('500 then success: retried', async () => {
      proxy.clearFaults();
      proxy.resetCounts();
      proxy.inject({ path: manifestPath('v1'), fault: { kind: 'status', status: 500 }, times: 1 });
      proxy.inject({ path: blobPath(), fault: { kind: 'status', status: 503 }, times: 2 });
      ok(await fd.docker(['pull', proxy.ref('lab/multi:v1')]), 'pull through 5xx', fd);
      assert.equal(proxy.count(manifestPath('v1'), 'HEAD'), 2);
      assertStoreSound(fd);
    });

    it('a manifest over 4 MiB is refused', async () => {
      proxy.clearFaults();
      proxy.inject({ path: manifestPath('v1'), method: ['HEAD', 'GET'], fault: { kind: 'huge-manifest' } });
      const res = await pullFails('lab/single:v1');
      assert.match(res.stderr, /Error response from daemon: failed to resolve reference ".*lab\/single:v1": rejecting \d+ byte manifest for .*lab\/single:v1: not found/);
      proxy.clearFaults();
    });

    it('an unknown manifest media type is refused', async () => {
      proxy.clearFaults();
      proxy.inject({ path: manifestPath(), method: ['HEAD', 'GET'], fault: { kind: 'media-type', mediaType: 'application/vnd.lading.unknown+json' } });
      const res = await pullFails('lab/derived:v1');
      assert.match(res.stderr, /unsupported media type "application\/vnd\.lading\.unknown\+json"|not found/);
      proxy.clearFaults();
      assertStoreSound(fd);
    });

    it('a blob redirected to another host is fetched there', async () => {
      proxy.clearFaults();
      proxy.resetCounts();
      proxy.inject({ path: blobPath(), fault: { kind: 'redirect' } });
      ok(await fd.docker(['pull', proxy.ref('lab/derived:v1')]), 'pull with redirects', fd);
      proxy.clearFaults();
      assert.ok(proxy.redirected.length >= 1);
      for (const r of proxy.redirected) assert.equal(r.authorization, undefined);
      assertStoreSound(fd);
    });
  });
});

/** Files under `dir` whose bytes contain `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    if (readFileSync(file).includes(needle)) found.push(file);
  }
  return found;
}
