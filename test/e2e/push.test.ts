// `docker push` from ladingd to loopback registries (Debian's docker-registry), through the harness's fault proxy
// where requests are counted or faults injected: what the CLI prints, what the raw stream says, what the registry
// holds afterwards (read back with skopeo), cross-repository mounts, credentials, and faults.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { lines, ok, short, streamMessages } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import type { RunResult } from '../support/exec.js';
import { blobPath, FaultProxy, manifestPath, UPLOAD_PATH } from '../support/fault-proxy.js';
import { layoutTar, multiPlatformImage, ociArchive, type ImageFixture } from '../support/images.js';
import { RegistryFixture } from '../support/registry-fixture.js';
import { Registry } from '../support/registry.js';

async function load(d: Daemon, fx: ImageFixture): Promise<void> {
  // A layout that lacks content (a partial index) cannot go through skopeo: its plain tar can.
  const file = fx.missing.length > 0 ? await layoutTar(fx) : await ociArchive(fx);
  ok(await d.docker(['load', '-i', file], { timeoutMs: 120_000 }), `docker load ${fx.familiar}`, d);
}

async function imageId(d: Daemon, ref: string): Promise<string> {
  return ok(await d.docker(['image', 'inspect', '--format', '{{.Id}}', ref]), `inspect ${ref}`, d).stdout.trim();
}

describe('docker push', { timeout: 600_000 }, () => {
  let fx: RegistryFixture;
  let single: ImageFixture;
  let multi: ImageFixture;
  let partial: ImageFixture;
  let reg: Registry;
  let proxy: FaultProxy;
  let d: Daemon;

  before(async () => {
    // An empty registry: what the tests push is all it holds.
    fx = await RegistryFixture.start({ seeded: false });
    ({ single, multi, reg, proxy, d } = fx);
    partial = await multiPlatformImage({ omit: 'arm64' });
    await load(d, single);
    await load(d, multi);
  });
  after(() => fx?.stop());

  it('pushes a tagged image: Docker\'s lines, and the registry serves the same digest', async () => {
    const ref = proxy.ref('other:v1');
    ok(await d.docker(['tag', single.familiar, ref]), 'docker tag', d);
    proxy.resetCounts();
    const res = ok(await d.docker(['push', ref]), `docker push ${ref}`, d);
    const out = lines(res.stdout);
    assert.equal(out[0], `The push refers to repository [${proxy.host}/other]`);
    const img = single.images[0]!;
    for (const layer of img.layers) assert.ok(out.includes(`${short(layer.digest)}: Pushed`), `${short(layer.digest)}: Pushed\n${res.stdout}`);
    assert.equal(out.at(-1), `v1: digest: ${single.id} size: ${single.target.size}`);
    assert.equal(res.stderr, '');

    const inspected = await reg.inspectDigest('other:v1');
    assert.equal(inspected, await imageId(d, ref));
    assert.equal(inspected, single.id);
    // The manifest went at its tag, once, after every blob.
    const puts = proxy.matching(manifestPath('v1'), 'PUT');
    assert.equal(puts.length, 1);
    const lastBlobPut = Math.max(...proxy.matching(UPLOAD_PATH, 'PUT').map((r) => r.seq));
    assert.ok(puts[0]!.seq > lastBlobPut, 'the manifest comes after its blobs');
    assert.equal(proxy.matching(UPLOAD_PATH, 'PUT').length, img.layers.length + 1, 'each layer and the config uploaded once');
  });

  it('pushes again: Layer already exists, nothing uploaded', async () => {
    const ref = proxy.ref('other:v1');
    proxy.resetCounts();
    const res = ok(await d.docker(['push', ref]), 'second push', d);
    const out = lines(res.stdout);
    for (const layer of single.images[0]!.layers) {
      assert.ok(out.includes(`${short(layer.digest)}: Layer already exists`), res.stdout);
    }
    assert.equal(out.at(-1), `v1: digest: ${single.id} size: ${single.target.size}`);
    assert.equal(proxy.count(UPLOAD_PATH), 0, 'no upload started');
    assert.equal(proxy.count(manifestPath('v1'), 'PUT'), 0, 'the tag already points at this manifest');
  });

  it('pulled from one repository, pushed to another of the same registry: Mounted from', async () => {
    await reg.push(single, 'lab/source:v1');
    const fresh = await Daemon.start();
    try {
      ok(await fresh.docker(['pull', proxy.ref('lab/source:v1')]), 'pull', fresh);
      ok(await fresh.docker(['tag', proxy.ref('lab/source:v1'), proxy.ref('lab/copy:v1')]), 'tag', fresh);
      proxy.resetCounts();
      const res = ok(await fresh.docker(['push', proxy.ref('lab/copy:v1')]), 'push to another repository', fresh);
      const out = lines(res.stdout);
      for (const layer of single.images[0]!.layers) {
        assert.ok(out.includes(`${short(layer.digest)}: Mounted from lab/source`), res.stdout);
      }
      const mounts = proxy.matching(UPLOAD_PATH, 'POST').filter((r) => r.query.includes('mount='));
      assert.ok(mounts.length >= single.images[0]!.layers.length, JSON.stringify(mounts));
      for (const m of mounts) assert.match(m.query, /from=lab\/source/);
      assert.equal(proxy.matching(UPLOAD_PATH, 'PUT').length, 0, 'nothing uploaded');
      assert.equal(await reg.inspectDigest('lab/copy:v1'), single.id);
    } finally {
      await fresh.stop();
    }
  });

  it('a multi-platform image pulled for one platform, pushed to another repository: its manifest, layers mounted', async () => {
    await reg.push(multi, 'lab/multisource:v1', { all: true });
    const fresh = await Daemon.start();
    try {
      ok(await fresh.docker(['pull', '--platform', 'linux/amd64', proxy.ref('lab/multisource:v1')]), 'pull', fresh);
      const ref = proxy.ref('lab/multicopy:v1');
      ok(await fresh.docker(['tag', proxy.ref('lab/multisource:v1'), ref]), 'tag', fresh);
      const res = await fresh.docker(['push', ref]);
      const amd64 = multi.images[0]!;
      if (process.arch !== 'x64') {
        assert.equal(res.code, 1);
        return;
      }
      ok(res, 'push', fresh);
      const out = lines(res.stdout);
      for (const layer of amd64.layers) assert.ok(out.includes(`${short(layer.digest)}: Mounted from lab/multisource`), res.stdout);
      assert.ok(out.includes(`v1: digest: ${amd64.manifest.digest} size: ${amd64.manifest.size}`), res.stdout);
      assert.match(res.stdout + res.stderr, /Not all multiplatform-content is present/);
      assert.equal(await reg.inspectDigest('lab/multicopy:v1'), amd64.manifest.digest);
    } finally {
      await fresh.stop();
    }
  });

  it('docker-py and dockerode push', async () => {
    const name = proxy.ref('lab/clients');
    ok(await d.docker(['tag', single.familiar, `${name}:py`]), 'tag', d);
    ok(await d.docker(['tag', single.familiar, `${name}:node`]), 'tag', d);
    const py = await d.pythonJson<Array<Record<string, unknown>>>(
      `out = list(client.images.push('${name}', tag='py', stream=True, decode=True))\nprint(json.dumps(out))`,
    );
    assert.deepEqual(py.at(-1), { aux: { Tag: 'py', Digest: single.id, Size: single.target.size } });
    assert.ok(!py.some((m) => 'error' in m), JSON.stringify(py));
    const docker = new Dockerode({ socketPath: d.socket });
    const stream = await docker.getImage(name).push({ tag: 'node' });
    const messages = await new Promise<Array<{ status?: string; aux?: unknown }>>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: Array<{ status?: string }>) => (err ? reject(err) : resolve(out))),
    );
    assert.equal(messages.at(-2)?.status, `node: digest: ${single.id} size: ${single.target.size}`);
    assert.equal(await reg.inspectDigest('lab/clients:node'), single.id);
  });

  it('a multi-platform index keeps its digest', async () => {
    const ref = proxy.ref('lab/multi:v1');
    ok(await d.docker(['tag', multi.familiar, ref]), 'tag', d);
    const res = ok(await d.docker(['push', ref]), 'push index', d);
    assert.equal(lines(res.stdout).at(-1), `v1: digest: ${multi.id} size: ${multi.target.size}`);
    assert.equal(await reg.inspectDigest('lab/multi:v1'), multi.id);
    for (const img of multi.images) assert.equal(await reg.inspectDigest(`lab/multi@${img.manifest.digest}`), img.manifest.digest);
  });

  it('an index not all here: the host\'s manifest is pushed instead, with Docker\'s note', async () => {
    const pd = await Daemon.start();
    try {
      await load(pd, partial);
      const ref = proxy.ref('lab/partial:v1');
      ok(await pd.docker(['tag', partial.familiar, ref]), 'tag', pd);
      const res = await pd.docker(['push', ref]);
      const amd64 = partial.images[0]!.manifest;
      if (process.arch === 'x64') {
        ok(res, 'push of a partial index', pd);
        assert.match(res.stdout, new RegExp(`v1: digest: ${amd64.digest} size: ${amd64.size}`));
        assert.match(res.stdout + res.stderr, /Not all multiplatform-content is present and only the available single-platform image was pushed/);
        assert.equal(await reg.inspectDigest('lab/partial:v1'), amd64.digest);
      } else {
        assert.equal(res.code, 1);
      }
      // With --platform, only that platform's manifest.
      const one = ok(await pd.docker(['push', '--platform', 'linux/amd64', ref]), 'push --platform', pd);
      assert.match(one.stdout, new RegExp(`v1: digest: ${amd64.digest}`));
      const missing = await pd.docker(['push', '--platform', 'linux/arm64', ref]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /image with reference .*lab\/partial:v1 was found but does not provide the specified platform \(linux\/arm64\)/);
    } finally {
      await pd.stop();
    }
  });

  it('--max-concurrent-uploads 1: one blob at a time, the others Waiting', async () => {
    const one = await Daemon.start({ extraArgs: ['--max-concurrent-uploads', '1'] });
    const slow = proxy.inject({ path: UPLOAD_PATH, method: 'PUT', fault: { kind: 'delay', ms: 250 } });
    try {
      await load(one, single);
      const name = proxy.ref('lab/serial');
      ok(await one.docker(['tag', single.familiar, `${name}:v1`]), 'tag', one);
      const raw = await one.request(`/v1.51/images/${encodeURIComponent(name)}/push?tag=v1`, { method: 'POST' });
      const messages = streamMessages(raw.text) as Array<{ status?: string; id?: string }>;
      const layers = single.images[0]!.layers.map((l) => short(l.digest));
      // While one layer is being pushed, no other is.
      let active: string | undefined;
      for (const m of messages) {
        if (!m.id || !layers.includes(m.id)) continue;
        if (m.status === 'Pushing') {
          assert.ok(active === undefined || active === m.id, `${m.id} pushing while ${active} is\n${raw.text}`);
          active = m.id;
        } else if (m.status === 'Pushed') {
          if (active === m.id) active = undefined;
        }
      }
      for (const id of layers) assert.ok(messages.some((m) => m.id === id && m.status === 'Pushed'), raw.text);
      assert.ok(messages.some((m) => m.status === 'Waiting'), raw.text);
      assert.equal(await reg.inspectDigest('lab/serial:v1'), single.id);
    } finally {
      slow.remove();
      await one.stop();
    }
  });

  it('an image not held: Docker\'s errors', async () => {
    const res = await d.docker(['push', proxy.ref('nothere:v1')]);
    assert.equal(res.code, 1);
    assert.equal(lines(res.stdout)[0], `The push refers to repository [${proxy.host}/nothere]`);
    assert.equal(res.stderr.trim(), `tag does not exist: ${proxy.ref('nothere:v1')}`);
    const all = await d.docker(['push', '--all-tags', proxy.ref('nothere')]);
    assert.equal(all.code, 1);
    assert.equal(all.stderr.trim(), `An image does not exist locally with the tag: ${proxy.ref('nothere')}`);
    const bad = await d.request('/v1.51/images/UPPER/push?tag=v1', { method: 'POST' });
    assert.equal(bad.status, 400);
  });

  it('--all-tags pushes every tag of the repository; the raw stream ends with the aux result; a push event', async () => {
    for (const tag of ['a', 'b']) ok(await d.docker(['tag', single.familiar, proxy.ref(`lab/all:${tag}`)]), 'tag', d);
    const res = ok(await d.docker(['push', '--all-tags', proxy.ref('lab/all')]), 'push --all-tags', d);
    const out = lines(res.stdout);
    assert.ok(out.includes(`a: digest: ${single.id} size: ${single.target.size}`), res.stdout);
    assert.ok(out.includes(`b: digest: ${single.id} size: ${single.target.size}`), res.stdout);

    const since = Math.floor(Date.now() / 1000) - 1;
    const name = encodeURIComponent(proxy.ref('lab/all'));
    const raw = await d.request(`/v1.51/images/${name}/push?tag=a`, { method: 'POST', headers: { 'X-Registry-Auth': 'e30=' } });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-type'], 'application/json');
    const messages = streamMessages(raw.text);
    assert.deepEqual(messages[0], { status: `The push refers to repository [${proxy.host}/lab/all]` });
    assert.deepEqual(messages.at(-2), { status: `a: digest: ${single.id} size: ${single.target.size}` });
    assert.deepEqual(messages.at(-1), { aux: { Tag: 'a', Digest: single.id, Size: single.target.size } });
    const until = Math.floor(Date.now() / 1000) + 1;
    const events = await d.request(`/v1.51/events?since=${since}&until=${until}&filters=${encodeURIComponent('{"event":["push"]}')}`);
    const pushes = events.text.split('\n').filter((l) => l).map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } });
    assert.ok(pushes.some((e) => e.Action === 'push' && e.Actor.ID === proxy.ref('lab/all:a') && e.Actor.Attributes.name === proxy.ref('lab/all')), events.text);
  });

  describe('credentials', () => {
    async function login(host: string): Promise<RunResult> {
      return d.docker(['login', host, '-u', 'lading', '--password-stdin'], { input: Buffer.from('lading-secret\n') });
    }

    it('htpasswd over TLS: refused anonymously, pushed after docker login', async () => {
      const hreg = await Registry.start({ mode: 'htpasswd' });
      try {
        const ref = hreg.ref('lab/secret:v1');
        ok(await d.docker(['tag', single.familiar, ref]), 'tag', d);
        const anonymous = await d.docker(['push', ref]);
        assert.equal(anonymous.code, 1);
        assert.equal(
          anonymous.stderr.trim(),
          'push access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials',
        );
        ok(await login(hreg.host), 'docker login', d);
        ok(await d.docker(['push', ref]), 'push after login', d);
        assert.equal(await hreg.inspectDigest('lab/secret:v1'), single.id);
        ok(await d.docker(['logout', hreg.host]), 'logout', d);
      } finally {
        await hreg.stop();
      }
    });

    it('token auth: anonymous (pull only) refused with Docker\'s text; logged in, one token for pull,push', async () => {
      const treg = await Registry.start({ mode: 'token', token: { anonymous: 'pull' } });
      try {
        const ref = treg.ref('lab/tokened:v1');
        ok(await d.docker(['tag', multi.familiar, ref]), 'tag', d);
        const anonymous = await d.docker(['push', ref]);
        assert.equal(anonymous.code, 1);
        assert.equal(
          anonymous.stderr.trim(),
          'push access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
        );
        ok(await login(treg.host), 'docker login', d);
        treg.issuer!.requests.length = 0;
        ok(await d.docker(['push', ref]), 'push with a token', d);
        const grants = treg.issuer!.requests.filter((r) => r.status === 200);
        // One token for the whole push; containerd adds the challenge's own scope to the one it asks for.
        assert.equal(grants.length, 1, JSON.stringify(grants.map((g) => [g.method, g.scopes])));
        assert.ok(grants[0]!.scopes.includes('repository:lab/tokened:pull,push'), JSON.stringify(grants[0]!.scopes));
        assert.equal(await treg.inspectDigest('lab/tokened:v1'), multi.id);
        ok(await d.docker(['logout', treg.host]), 'logout', d);
      } finally {
        await treg.stop();
      }
    });
  });

  describe('faults', () => {
    // A registry of their own: nothing there to mount from, so every blob is uploaded.
    let freg: Registry;
    let fproxy: FaultProxy;
    before(async () => {
      freg = await Registry.start();
      fproxy = await FaultProxy.start({ upstream: freg });
    });
    after(async () => {
      await fproxy?.stop();
      await freg?.stop();
    });

    it('500 on an upload, then success: started over', async () => {
      const reg = freg;
      const proxy = fproxy;
      proxy.clearFaults();
      proxy.resetCounts();
      const ref = proxy.ref('lab/fault500:v1');
      ok(await d.docker(['tag', single.familiar, ref]), 'tag', d);
      proxy.inject({ path: UPLOAD_PATH, method: 'PUT', fault: { kind: 'status', status: 500 }, times: 1 });
      proxy.inject({ path: manifestPath('v1'), method: 'PUT', fault: { kind: 'status', status: 503 }, times: 1 });
      ok(await d.docker(['push', ref]), 'push through 5xx', d);
      proxy.clearFaults();
      assert.equal(proxy.matching(UPLOAD_PATH, 'PUT').length, single.images[0]!.layers.length + 2, 'one upload done twice');
      assert.equal(proxy.count(manifestPath('v1'), 'PUT'), 2);
      assert.equal(await reg.inspectDigest('lab/fault500:v1'), single.id);
    });

    it('a connection dropped mid-upload: started over', async () => {
      const reg = freg;
      const proxy = fproxy;
      proxy.clearFaults();
      proxy.resetCounts();
      // Content not pushed to this registry yet (the last test's would be mounted).
      const ref = proxy.ref('lab/dropped:v1');
      ok(await d.docker(['tag', multi.familiar, ref]), 'tag', d);
      proxy.inject({ path: UPLOAD_PATH, method: 'PUT', fault: { kind: 'drop', bytes: 100 }, times: 1 });
      ok(await d.docker(['push', ref]), 'push through a dropped connection', d);
      proxy.clearFaults();
      assert.equal(await reg.inspectDigest('lab/dropped:v1'), multi.id);
      const puts = proxy.matching(UPLOAD_PATH, 'PUT');
      assert.equal(puts.filter((r) => r.fault === 'drop').length, 1);
      // The dropped upload was started over with a new POST.
      assert.equal(proxy.matching(UPLOAD_PATH, 'POST').length, puts.length, JSON.stringify(proxy.countsByPath()));
    });

    it('relative upload Locations (as the distribution spec allows): pushed, and the image pulls back with the same digest', async () => {
      // A registry of its own: no repository there that the daemon could mount from, so every blob is uploaded.
      const rreg = await Registry.start();
      const rproxy = await FaultProxy.start({ upstream: rreg });
      const fresh = await Daemon.start();
      try {
        rproxy.inject({ path: UPLOAD_PATH, method: ['POST', 'PATCH'], fault: { kind: 'relative-location' } });
        const ref = rproxy.ref('lab/relative:v1');
        ok(await d.docker(['tag', multi.familiar, ref]), 'tag', d);
        const res = ok(await d.docker(['push', ref]), 'push with relative upload locations', d);
        assert.equal(lines(res.stdout).at(-1), `v1: digest: ${multi.id} size: ${multi.target.size}`);
        const posts = rproxy.matching(UPLOAD_PATH, 'POST');
        assert.ok(posts.length > 0);
        for (const p of posts) assert.match(p.location ?? '', /^\/v2\/lab\/relative\/blobs\/uploads\/[^/?]+\?/, JSON.stringify(p));
        const puts = rproxy.matching(UPLOAD_PATH, 'PUT');
        // Uploads run in parallel: compared as sets.
        assert.deepEqual(
          puts.map((r) => `${r.path} ${r.status}`).sort(),
          posts.map((r) => `${r.location!.split('?')[0]} 201`).sort(),
          'each upload PUT to its relative Location',
        );
        assert.equal(await rreg.inspectDigest('lab/relative:v1'), multi.id);

        // Pulled back into an empty daemon: every blob checked against its digest on the way in.
        const pulled = ok(await fresh.docker(['pull', ref]), 'pull back', fresh);
        assert.ok(lines(pulled.stdout).includes(`Digest: ${multi.id}`), pulled.stdout);
        assert.equal(await imageId(fresh, ref), multi.id);
      } finally {
        await fresh.stop();
        await rproxy.stop();
        await rreg.stop();
      }
    });

    it('a registry that keeps failing: the error in the stream', async () => {
      const proxy = fproxy;
      proxy.clearFaults();
      const ref = proxy.ref('lab/broken:v1');
      ok(await d.docker(['tag', single.familiar, ref]), 'tag', d);
      proxy.inject({ path: blobPath(), method: 'HEAD', fault: { kind: 'status', status: 403, body: '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}' } });
      const res = await d.docker(['push', ref]);
      proxy.clearFaults();
      assert.equal(res.code, 1);
      assert.match(res.stderr, /unexpected status from HEAD request to .*: 403 Forbidden/);
    });
  });
});
