// The registry harness itself, proven with skopeo and node:http only (no Lading): each auth mode takes a push and
// serves it back, the token issuer signs what registry 2.8 accepts and records scopes, the fault proxy's
// injections are visible on the wire.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blobPath, FaultProxy, manifestPath, UPLOAD_PATH } from './fault-proxy.js';
import { multiPlatformImage, sha256, singlePlatformImage, type ImageFixture } from './images.js';
import { tempDir } from './paths.js';
import { httpRequest, parseChallenge, Registry } from './registry.js';
import { libtrustKeyId } from './token-issuer.js';

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, Math.round(performance.now() - t0)];
}

function expectUnauthorized(res: { code: number | null; stderr: string }): void {
  assert.notEqual(res.code, 0, 'skopeo should have failed');
  assert.match(res.stderr, /401|unauthorized|authentication required/i, res.stderr);
}

describe('registry harness', { timeout: 240_000 }, () => {
  let single: ImageFixture;
  let multi: ImageFixture;
  before(async () => {
    single = await singlePlatformImage();
    multi = await multiPlatformImage();
  });

  describe('plain', () => {
    let reg: Registry;
    before(async () => {
      let ms: number;
      [reg, ms] = await timed(() => Registry.start());
      process.stderr.write(`# plain registry started in ${ms} ms\n`);
    });
    after(() => reg?.stop());

    it('answers /v2/ with 200 over HTTP and takes a push of one image and of a whole index', async () => {
      assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
      const ping = await reg.request('/v2/');
      assert.equal(ping.status, 200);
      assert.equal(ping.headers['docker-distribution-api-version'], 'registry/2.0');
      assert.equal(await reg.push(single, 'lading/single:v1'), single.id);
      assert.equal(await reg.inspectDigest('lading/single:v1'), single.id);
      assert.equal(await reg.push(multi, 'lading/multi:v1', { all: true }), multi.id);
      assert.equal(await reg.inspectDigest('lading/multi:v1'), multi.id);
      assert.equal(await reg.inspectDigest(`lading/multi@${multi.images[1]!.manifest.digest}`), multi.images[1]!.manifest.digest);
      const tags = await reg.request('/v2/lading/multi/tags/list');
      assert.deepEqual(JSON.parse(tags.text), { name: 'lading/multi', tags: ['v1'] });
    });

    it('stop kills the registry and removes its storage', async () => {
      const other = await Registry.start();
      const { dir, url } = other;
      await other.stop();
      assert.equal(existsSync(dir), false);
      await assert.rejects(httpRequest(`${url}/v2/`, { timeoutMs: 2_000 }));
      await other.stop(); // idempotent
    });

    it('a registry that cannot start fails with its log tail', async () => {
      await assert.rejects(
        Registry.start({ config: { storage: { inmemory: {} } } }),
        (err: Error) => /registry did not start: exited/.test(err.message) && /--- registry .* log/.test(err.message) && /storage/i.test(err.message),
      );
    });
  });

  describe('htpasswd over TLS', () => {
    let reg: Registry;
    before(async () => {
      let ms: number;
      [reg, ms] = await timed(() => Registry.start({ mode: 'htpasswd', username: 'alice', password: 's3cret:with colon' }));
      process.stderr.write(`# htpasswd+TLS registry started in ${ms} ms (CA made on first use)\n`);
    });
    after(() => reg?.stop());

    it('challenges with Basic, takes a push with creds, refuses anonymous and wrong-password reads', async () => {
      assert.equal(reg.scheme, 'https');
      const ping = await reg.request('/v2/');
      assert.equal(ping.status, 401);
      assert.equal(parseChallenge(String(ping.headers['www-authenticate'])).scheme, 'basic');
      assert.equal((await reg.authedRequest('/v2/')).status, 200);

      assert.equal(await reg.push(single, 'private/single:v1'), single.id);
      assert.equal(await reg.inspectDigest('private/single:v1'), single.id);
      expectUnauthorized(await reg.inspect('private/single:v1', { creds: false, raw: true }));
      expectUnauthorized(await reg.inspect('private/single:v1', { creds: { username: 'alice', password: 'nope' }, raw: true }));
      const anonPush = await reg.skopeo([
        'copy', '--quiet', ...reg.skopeoFlags('dest-', { creds: false }),
        `oci:${single.layoutDir}:${single.tag}`, `docker://${reg.ref('private/anon:v1')}`,
      ]);
      expectUnauthorized(anonPush);
    });

    it('is trusted through the CA only, and writes the certs.d layout', async () => {
      await assert.rejects(httpRequest(`${reg.url}/v2/`), /self-signed|unable to verify|certificate/i);
      assert.ok(reg.caCertPath && readFileSync(reg.caCertPath, 'utf8').includes('BEGIN CERTIFICATE'));
      const dir = tempDir('certsd');
      const file = reg.writeCertsD(dir);
      assert.equal(file, path.join(dir, reg.host, 'ca.crt'));
      assert.equal(readFileSync(file, 'utf8'), readFileSync(reg.caCertPath, 'utf8'));
      // localhost is in the certificate too.
      const res = await httpRequest(`https://localhost:${reg.port}/v2/`, { ca: readFileSync(file) });
      assert.equal(res.status, 401);
    });
  });

  describe('token auth over TLS', () => {
    let reg: Registry;
    before(async () => {
      let ms: number;
      [reg, ms] = await timed(() => Registry.start({ mode: 'token' }));
      process.stderr.write(`# token+TLS registry and issuer started in ${ms} ms\n`);
    });
    after(() => reg?.stop());

    it('challenges with Bearer at the issuer, which records the scopes of a push and a pull', async () => {
      const issuer = reg.issuer!;
      const ping = await reg.request('/v2/');
      assert.equal(ping.status, 401);
      const ch = parseChallenge(String(ping.headers['www-authenticate']));
      assert.deepEqual(ch, { scheme: 'bearer', params: { realm: issuer.realm, service: issuer.service } });
      assert.match(issuer.realm, /^https:\/\/127\.0\.0\.1:\d+\/token$/);

      issuer.reset();
      assert.equal(await reg.push(multi, 'team/multi:v1', { all: true }), multi.id);
      const pushScopes = new Set(issuer.scopes());
      assert.ok(
        [...pushScopes].some((s) => /^repository:team\/multi:(pull,push|push,pull)$/.test(s)),
        `scopes: ${[...pushScopes].join(' | ')}`,
      );
      for (const r of issuer.requests) {
        assert.equal(r.user, 'lading');
        assert.equal(r.credentialsValid, true);
        assert.equal(r.status, 200);
        assert.equal(r.service, issuer.service);
      }
      issuer.reset();
      assert.equal(await reg.inspectDigest('team/multi:v1'), multi.id);
      assert.ok(issuer.scopes().includes('repository:team/multi:pull'), issuer.scopes().join(' | '));
      assert.deepEqual(issuer.requests.at(-1)?.granted, [{ type: 'repository', name: 'team/multi', actions: ['pull'] }]);
    });

    it('refuses anonymous and wrong-password clients at the issuer', async () => {
      const issuer = reg.issuer!;
      issuer.reset();
      expectUnauthorized(await reg.inspect('team/multi:v1', { creds: false }));
      assert.ok(issuer.requests.length > 0);
      assert.ok(issuer.requests.every((r) => r.status === 401 && r.user === undefined && r.authorization === undefined));
      issuer.reset();
      expectUnauthorized(await reg.inspect('team/multi:v1', { creds: { username: 'lading', password: 'wrong' } }));
      assert.ok(issuer.requests.every((r) => r.status === 401 && r.credentialsValid === false));
    });

    it('the registry checks iss, aud, scope and signature of the tokens', async () => {
      const issuer = reg.issuer!;
      const pull = [{ type: 'repository', name: 'team/multi', actions: ['pull'] }];
      const get = (token: string) =>
        reg.request(`/v2/team/multi/manifests/v1`, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.index.v1+json' },
        });
      assert.equal((await get(issuer.mint('lading', pull))).status, 200);
      const cases: Array<[string, string, RegExp]> = [
        ['wrong issuer', issuer.mint('lading', pull, { issuer: 'someone-else' }), /invalid_token/],
        ['wrong audience', issuer.mint('lading', pull, { audience: 'other' }), /invalid_token/],
        ['expired', issuer.mint('lading', pull, { expiresIn: -120 }), /invalid_token/],
        ['other repository', issuer.mint('lading', [{ ...pull[0]!, name: 'team/other' }]), /insufficient_scope/],
        ['bad signature', issuer.mint('lading', pull).slice(0, -6) + 'AAAAAA', /invalid_token/],
      ];
      for (const [what, token, challenge] of cases) {
        const res = await get(token);
        assert.equal(res.status, 401, what);
        assert.match(String(res.headers['www-authenticate']), challenge, what);
      }
      // skopeo with a minted token only (no credentials): the registry sees it, the issuer is never asked.
      issuer.reset();
      assert.equal(await reg.inspectDigest('team/multi:v1', { token: issuer.mint(undefined, pull) }), multi.id);
      assert.equal(issuer.requests.length, 0);
    });

    it('kid is the libtrust fingerprint of the signing certificate', () => {
      const m = reg.issuer!.material;
      assert.match(m.kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
      assert.equal(libtrustKeyId(readFileSync(m.certPath)), m.kid);
    });
  });

  describe('token auth variants', () => {
    it('anonymous pull: reads without credentials, pushes need them; OAuth POST answers tokens', async () => {
      const reg = await Registry.start({ mode: 'token', tls: false, token: { anonymous: 'pull' } });
      try {
        const issuer = reg.issuer!;
        assert.match(issuer.realm, /^http:\/\//);
        assert.equal(await reg.push(single, 'pub/single:v1'), single.id);
        issuer.reset();
        assert.equal(await reg.inspectDigest('pub/single:v1', { creds: false }), single.id);
        assert.ok(issuer.requests.every((r) => r.user === undefined && r.status === 200));
        const anonPush = await reg.skopeo([
          'copy', '--quiet', ...reg.skopeoFlags('dest-', { creds: false }),
          `oci:${single.layoutDir}:${single.tag}`, `docker://${reg.ref('pub/anon:v1')}`,
        ]);
        expectUnauthorized(anonPush);
        const anonGrant = issuer.requests.find((r) => r.scopes.some((s) => s.startsWith('repository:pub/anon:')));
        assert.deepEqual(anonGrant?.granted, [{ type: 'repository', name: 'pub/anon', actions: ['pull'] }]);

        // containerd's first try: POST grant_type=password.
        const form = new URLSearchParams({
          grant_type: 'password', username: 'lading', password: 'lading-secret', service: issuer.service,
          scope: 'repository:pub/single:pull,push', client_id: 'lading-test', access_type: 'offline',
        });
        const res = await httpRequest(issuer.realm, {
          method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(res.status, 200, res.text);
        const body = JSON.parse(res.text) as Record<string, unknown>;
        assert.equal(typeof body.access_token, 'string');
        assert.equal(typeof body.refresh_token, 'string');
        assert.equal(body.expires_in, 300);
        assert.ok(!Number.isNaN(Date.parse(String(body.issued_at))));
        const refreshed = await httpRequest(issuer.realm, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(body.refresh_token), service: issuer.service, scope: 'repository:pub/single:pull' }).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(refreshed.status, 200);
        assert.equal(issuer.requests.at(-1)?.user, 'lading');
        issuer.failNext(1, 503);
        assert.equal((await httpRequest(`${issuer.realm}?service=${issuer.service}`)).status, 503);
      } finally {
        await reg.stop();
      }
    });

    it('x5c chain signing with an RSA key', async () => {
      const reg = await Registry.start({ mode: 'token', token: { signing: 'x5c', keyType: 'rsa' } });
      try {
        assert.equal(reg.issuer!.rootCertBundle, reg.issuer!.material.rootCertPath);
        assert.equal(await reg.push(single, 'x5c/single:v1'), single.id);
        assert.equal(await reg.inspectDigest('x5c/single:v1'), single.id);
        const token = reg.issuer!.mint('lading', [{ type: 'repository', name: 'x5c/single', actions: ['pull'] }]);
        const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
        assert.equal(header.alg, 'RS256');
        assert.equal(header.kid, undefined);
        assert.ok(Array.isArray(header.x5c));
      } finally {
        await reg.stop();
      }
    });
  });

  describe('fault proxy', () => {
    let reg: Registry;
    let proxy: FaultProxy;
    let layer: { digest: string; size: number };
    before(async () => {
      reg = await Registry.start();
      await reg.push(single, 'lading/single:v1');
      proxy = await FaultProxy.start({ upstream: reg });
      layer = single.images[0]!.layers[0]!;
    });
    after(async () => {
      await proxy?.stop();
      await reg?.stop();
    });

    const blobUrl = () => `${proxy.url}/v2/lading/single/blobs/${layer.digest}`;
    const manifestUrl = () => `${proxy.url}/v2/lading/single/manifests/v1`;
    const acceptOci = { accept: 'application/vnd.oci.image.manifest.v1+json' };

    it('passes through, counts per path, serves ranges, works for skopeo pulls and pushes', async () => {
      proxy.resetCounts();
      const m = await httpRequest(manifestUrl(), { headers: acceptOci });
      assert.equal(m.status, 200);
      assert.equal(sha256(m.body), single.id);
      const head = await httpRequest(blobUrl(), { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(Number(head.headers['content-length']), layer.size);
      const blob = await httpRequest(blobUrl());
      assert.equal(sha256(blob.body), layer.digest);
      const part = await httpRequest(blobUrl(), { headers: { range: 'bytes=10-29' } });
      assert.equal(part.status, 206);
      assert.deepEqual(part.body, blob.body.subarray(10, 30));
      assert.equal(proxy.count(blobPath(layer.digest), 'GET'), 2);
      assert.equal(proxy.count(blobPath(), 'HEAD'), 1);
      assert.equal(proxy.count(manifestPath('v1')), 1);
      assert.equal(proxy.matching(blobPath(), 'GET')[1]?.range, 'bytes=10-29');
      assert.equal(proxy.countsByPath()[`GET /v2/lading/single/blobs/${layer.digest}`], 2);

      // skopeo through the proxy: uploads follow the registry's Location, which names the proxy.
      const flags = ['--dest-tls-verify=false'];
      const push = await reg.skopeo(['copy', '--quiet', '--preserve-digests', ...flags,
        `oci:${multi.layoutDir}:${multi.tag}`, `docker://${proxy.ref('via/proxy:v1')}`, '--all']);
      assert.equal(push.code, 0, push.stderr);
      assert.ok(proxy.count(/\/blobs\/uploads\/$/, 'POST') > 0);
      assert.ok(proxy.count(/\/blobs\/uploads\/[^/]+$/, 'PUT') > 0);
      assert.equal(await reg.inspectDigest('via/proxy:v1'), multi.id);
    });

    it('wrong body: same length, another digest', async () => {
      const h = proxy.inject({ path: blobPath(layer.digest), fault: { kind: 'wrong-body' }, times: 1 });
      const bad = await httpRequest(blobUrl());
      assert.equal(bad.status, 200);
      assert.equal(bad.body.length, layer.size);
      assert.notEqual(sha256(bad.body), layer.digest);
      assert.equal(bad.headers['docker-content-digest'], layer.digest);
      assert.equal(sha256((await httpRequest(blobUrl())).body), layer.digest, 'only the first time');
      assert.equal(h.applied, 1);
      assert.equal(h.matched, 2);
      h.remove();
    });

    it('truncated blob: full Content-Length, then the connection closes', async () => {
      const h = proxy.inject({ path: blobPath(), fault: { kind: 'truncate', bytes: 1000 }, times: 1 });
      const res = await httpRequest(blobUrl(), { allowIncomplete: true });
      assert.equal(res.status, 200);
      assert.equal(Number(res.headers['content-length']), layer.size);
      assert.equal(res.complete, false);
      assert.equal(res.body.length, 1000);
      await assert.rejects(httpRequest(blobUrl()).then(() => proxy.inject({ path: blobPath(), fault: { kind: 'truncate' }, times: 1 })).then(() => httpRequest(blobUrl())), /cut short/);
      assert.equal(sha256((await httpRequest(blobUrl())).body), layer.digest);
      h.remove();
    });

    it('500 on the first N requests, then pass-through', async () => {
      proxy.resetCounts();
      proxy.inject({ path: manifestPath(), method: ['GET', 'HEAD'], fault: { kind: 'status', status: 500 }, times: 2 });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await httpRequest(manifestUrl(), { headers: acceptOci })).status);
      assert.deepEqual(statuses, [500, 500, 200]);
      assert.equal(proxy.count(manifestPath()), 3);
      assert.deepEqual(proxy.requests.map((r) => r.fault), ['status', 'status', undefined]);
      proxy.clearFaults();
      proxy.inject({ path: '/v2/', fault: { kind: 'delay', ms: 150 }, times: 1 });
      const t0 = Date.now();
      assert.equal((await httpRequest(`${proxy.url}/v2/`)).status, 200);
      assert.ok(Date.now() - t0 >= 140);
      proxy.clearFaults();
    });

    it('relative upload Location: the path and query of the registry\'s, which still takes the upload', async () => {
      const h = proxy.inject({ path: UPLOAD_PATH, method: ['POST', 'PATCH'], fault: { kind: 'relative-location' } });
      try {
        const data = Buffer.from('relative location\n');
        const started = await httpRequest(`${proxy.url}/v2/lading/relative/blobs/uploads/`, { method: 'POST' });
        assert.equal(started.status, 202);
        const location = String(started.headers.location);
        assert.match(location, /^\/v2\/lading\/relative\/blobs\/uploads\/[^/?]+\?_state=/);
        const put = await httpRequest(`${proxy.url}${location}&digest=${encodeURIComponent(sha256(data))}`, { method: 'PUT', body: data });
        assert.equal(put.status, 201, put.text);
        // Answers to other requests keep their absolute Location.
        assert.match(String(put.headers.location), /^http:\/\/127\.0\.0\.1:\d+\/v2\/lading\/relative\/blobs\/sha256:/);
        assert.equal(h.applied, 1);
        assert.equal(proxy.requests.at(-2)?.location, location);
      } finally {
        h.remove();
      }
    });

    it('huge manifest and unknown media type', async () => {
      proxy.inject({ path: manifestPath('v1'), fault: { kind: 'huge-manifest' }, times: 1 });
      const huge = await httpRequest(manifestUrl(), { headers: acceptOci });
      assert.ok(huge.body.length > 4 * 1024 * 1024);
      assert.equal(Number(huge.headers['content-length']), huge.body.length);
      assert.equal(huge.headers['docker-content-digest'], sha256(huge.body));
      const parsed = JSON.parse(huge.text) as { layers: unknown[] };
      assert.equal(parsed.layers.length, 2, 'still the same manifest, padded');
      proxy.inject({ path: manifestPath('v1'), method: 'HEAD', fault: { kind: 'huge-manifest' }, times: 1 });
      const hugeHead = await httpRequest(manifestUrl(), { method: 'HEAD', headers: acceptOci });
      assert.equal(hugeHead.headers['content-length'], huge.headers['content-length']);
      assert.equal(hugeHead.headers['docker-content-digest'], huge.headers['docker-content-digest']);

      proxy.inject({ path: manifestPath('v1'), fault: { kind: 'media-type', mediaType: 'application/vnd.lading.unknown+json' }, times: 1 });
      const odd = await httpRequest(manifestUrl(), { headers: acceptOci });
      assert.equal(odd.headers['content-type'], 'application/vnd.lading.unknown+json');
      assert.equal((JSON.parse(odd.text) as { mediaType: string }).mediaType, 'application/vnd.lading.unknown+json');
      assert.equal(odd.headers['docker-content-digest'], sha256(odd.body));
      // Back to normal.
      assert.equal(sha256((await httpRequest(manifestUrl(), { headers: acceptOci })).body), single.id);
    });

    it('307 to another loopback host that records Authorization; ranges there too', async () => {
      proxy.resetCounts();
      proxy.inject({ path: blobPath(), method: ['GET', 'HEAD'], fault: { kind: 'redirect' } });
      const res = await httpRequest(blobUrl(), { headers: { authorization: 'Bearer secret-for-registry' } });
      assert.equal(res.status, 307);
      const location = new URL(String(res.headers.location));
      assert.equal(location.host, proxy.redirectHost);
      assert.notEqual(location.hostname, '127.0.0.1', 'expected another loopback address (127.0.0.2)');
      assert.equal(proxy.requests[0]?.authorization, 'Bearer secret-for-registry');
      const followed = await httpRequest(location);
      assert.equal(sha256(followed.body), layer.digest);
      const ranged = await httpRequest(location, { headers: { range: 'bytes=-16', authorization: 'Bearer leaked' } });
      assert.equal(ranged.status, 206);
      assert.deepEqual(ranged.body, followed.body.subarray(-16));
      assert.deepEqual(proxy.redirected.map((r) => r.authorization), [undefined, 'Bearer leaked']);

      // skopeo (Go's http.Client) follows it and drops Authorization for the other host.
      proxy.resetCounts();
      const out = path.join(tempDir('pull'), 'layout');
      const pull = await reg.skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${proxy.ref('lading/single:v1')}`, `oci:${out}:v1`]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.ok(proxy.redirected.length >= 2, `redirected: ${JSON.stringify(proxy.redirected)}`);
      proxy.clearFaults();
    });
  });

  describe('fault proxy in front of token auth over TLS', () => {
    it('credentials go to the issuer only; blob redirects arrive without Authorization', async () => {
      const reg = await Registry.start({ mode: 'token' });
      const proxy = await FaultProxy.start({ upstream: reg });
      try {
        assert.equal(proxy.tls, true);
        assert.equal(await reg.push(single, 'sec/single:v1'), single.id);
        reg.issuer!.reset();
        proxy.inject({ path: blobPath(), fault: { kind: 'redirect' } });
        const out = path.join(tempDir('pull'), 'layout');
        const certsD = tempDir('certsd');
        proxy.writeCertsD(certsD);
        const pull = await reg.skopeo([
          'copy', '--quiet', '--src-cert-dir', path.join(certsD, proxy.host), '--src-creds', 'lading:lading-secret',
          `docker://${proxy.ref('sec/single:v1')}`, `oci:${out}:v1`,
        ]);
        assert.equal(pull.code, 0, pull.stderr);
        const auths = proxy.requests.map((r) => r.authorization).filter((a) => a !== undefined);
        assert.ok(auths.length > 0 && auths.every((a) => a.startsWith('Bearer ')), auths.join(', '));
        assert.ok(reg.issuer!.requests.length > 0);
        assert.ok(reg.issuer!.requests.every((r) => r.authorization?.startsWith('Basic ')));
        assert.ok(proxy.redirected.length >= 2);
        assert.ok(proxy.redirected.every((r) => r.authorization === undefined && r.status === 200), JSON.stringify(proxy.redirected));
      } finally {
        await proxy.stop();
        await reg.stop();
      }
    });
  });
});
