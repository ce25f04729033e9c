import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { FsContentStore } from '../content/fs-content-store.js';
import { BlobFetcher } from './blob-fetch.js';
import { fetchManifest, resolveManifest, type Repository } from './manifest-fetch.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';
import { RegistryService } from './registry-service.js';
import { Semaphore } from './semaphore.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let other: Handler = (_req, res) => res.end();
const seen: Array<{ host: string; method: string; url: string; authorization?: string; range?: string }> = [];
let registry: http.Server;
let elsewhere: http.Server;
let host = '';
let otherHost = '';
const slept: number[] = [];

function listen(h: () => Handler): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    seen.push({
      host: req.headers.host ?? '',
      method: req.method ?? '',
      url: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(req.headers.range ? { range: req.headers.range } : {}),
    });
    h()(req, res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  registry = await listen(() => handler);
  elsewhere = await listen(() => other);
  host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  otherHost = `127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
});
after(() => {
  registry.closeAllConnections();
  elsewhere.closeAllConnections();
  registry.close();
  elsewhere.close();
});

async function repo(auth = {}): Promise<Repository> {
  const service = new RegistryService({ retry: { ...DEFAULT_RETRY_POLICY, random: () => 0.5, sleep: async (ms) => void slept.push(ms) } });
  return service.repository(host, 'lab/x', { auth });
}

const blob = Buffer.from('x'.repeat(200_000));
const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:' + createHash('sha256').update(blob).digest('hex'), size: blob.length };

test('5xx answers are retried with backoff on a fake clock; HEAD resolves tags with Docker\'s Accept list', async () => {
  seen.length = 0;
  slept.length = 0;
  let calls = 0;
  handler = (req, res) => {
    if (++calls <= 2) {
      res.writeHead(503).end();
      return;
    }
    assert.equal(req.headers.accept, 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*');
    res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': '123', 'Docker-Content-Digest': desc.digest }).end();
  };
  const resolved = await resolveManifest(await repo(), `${host}/lab/x:t`, 't');
  assert.deepEqual(resolved, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: desc.digest, size: 123 });
  assert.equal(calls, 3);
  assert.deepEqual(slept, [150, 300]);
});

test('basic auth after a 401; a redirect to another host carries no credentials', async () => {
  seen.length = 0;
  handler = (req, res) => {
    if (!req.headers.authorization) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
      return;
    }
    res.writeHead(307, { Location: `http://${otherHost}/parked/blob` }).end();
  };
  other = (_req, res) => res.writeHead(200, { 'Content-Length': String(blob.length) }).end(blob);
  const store = new FsContentStore(mkdtempSync(path.join(tmpdir(), 'lading-fetch-')));
  await store.init();
  const fetcher = new BlobFetcher(store, new Semaphore(3));
  const fetched = await fetcher.fetch(await repo({ username: 'u', password: 'p' }), desc, { analyze: false });
  assert.equal(fetched.info.digest, desc.digest);
  const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
  assert.deepEqual(
    seen.map((r) => [r.host === host ? 'registry' : 'elsewhere', r.authorization ?? null]),
    [['registry', null], ['registry', basic], ['elsewhere', null]],
  );
});

test('a blob cut short resumes with Range; a wrong digest is refused and nothing is kept', async () => {
  seen.length = 0;
  let calls = 0;
  handler = (req, res) => {
    calls++;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'Content-Length': String(blob.length) });
      res.write(blob.subarray(0, 50_000), () => res.destroy());
      return;
    }
    const start = Number(range[1]);
    res.writeHead(206, { 'Content-Length': String(blob.length - start), 'Content-Range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
    res.end(blob.subarray(start));
  };
  const store = new FsContentStore(mkdtempSync(path.join(tmpdir(), 'lading-fetch-')));
  await store.init();
  const fetcher = new BlobFetcher(store, new Semaphore(3));
  await fetcher.fetch(await repo(), desc, { analyze: false });
  assert.equal(calls, 2);
  assert.match(seen[1]?.range ?? '', /^bytes=\d+-$/);
  assert.equal((await store.info(desc.digest))?.size, blob.length);

  handler = (_req, res) => res.writeHead(200, { 'Content-Length': String(blob.length) }).end(Buffer.from('y'.repeat(blob.length)));
  await store.delete(desc.digest);
  await assert.rejects(
    fetcher.fetch(await repo(), desc, { analyze: false }),
    new RegExp(`failed commit on ref "layer-${desc.digest}": unexpected commit digest sha256:[0-9a-f]{64}, expected ${desc.digest}: failed precondition`),
  );
  assert.equal(await store.has(desc.digest), false);
  const leftovers: string[] = [];
  for await (const b of store.list()) leftovers.push(b.digest);
  assert.deepEqual(leftovers, []);
});

test('a manifest is verified against its descriptor', async () => {
  const body = Buffer.from('{"schemaVersion":2}');
  handler = (_req, res) => res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end(body);
  const good = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + createHash('sha256').update(body).digest('hex'), size: body.length };
  assert.deepEqual(await fetchManifest(await repo(), good), body);
  await assert.rejects(fetchManifest(await repo(), { ...good, digest: desc.digest }), /unexpected commit digest/);
  await assert.rejects(fetchManifest(await repo(), { ...good, size: 5 * 1024 * 1024 }), /more than the limit of 4194304 bytes/);
});

/** The whole body of a request. */
async function bodyOf(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test('a streamed PUT body is opened anew for the round after a 401, and sent whole with its length', async () => {
  seen.length = 0;
  const received: Array<{ length: string | undefined; body: Buffer }> = [];
  handler = (req, res) => {
    void bodyOf(req).then((body) => {
      received.push({ length: req.headers['content-length'], body });
      if (!req.headers.authorization) res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
      else res.writeHead(201, { 'Docker-Content-Digest': desc.digest }).end();
    });
  };
  const r = await repo({ username: 'u', password: 'p' });
  let opened = 0;
  const res = await r.transport.request({
    method: 'PUT',
    endpoint: r.endpoints[r.endpoints.length - 1]!,
    path: '',
    url: new URL(`http://${host}/v2/lab/x/blobs/uploads/abc?_state=s&digest=${desc.digest}`),
    body: { size: blob.length, open: () => (opened++, Readable.from([blob.subarray(0, 1000), blob.subarray(1000)])) },
    lastHost: true,
  });
  res.body.resume();
  assert.equal(res.status, 201);
  assert.equal(opened, 2);
  assert.deepEqual(received.map((x) => x.length), [String(blob.length), String(blob.length)]);
  assert.ok(received[1]!.body.equals(blob));
  assert.equal(seen[1]?.url, `/v2/lab/x/blobs/uploads/abc?_state=s&digest=${desc.digest}`);
});

test('retry: false returns a 500 at once; a POST\'s own scopes are added to the token it asks for', async () => {
  seen.length = 0;
  slept.length = 0;
  handler = (_req, res) => res.writeHead(500).end();
  const r = await repo();
  const endpoint = r.endpoints[r.endpoints.length - 1]!;
  const res = await r.transport.request({ method: 'PUT', endpoint, path: 'manifests/v1', body: Buffer.from('{}'), lastHost: true, retry: false });
  res.body.resume();
  assert.equal(res.status, 500);
  assert.equal(seen.length, 1);
  assert.deepEqual(slept, []);

  seen.length = 0;
  const tokenScopes: string[][] = [];
  other = (req, res) => {
    tokenScopes.push(new URL(req.url ?? '/', 'http://x').searchParams.getAll('scope'));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 't' }));
  };
  handler = (req, res) => {
    if (req.headers.authorization !== 'Bearer t') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${otherHost}/token",service="reg"` }).end();
      return;
    }
    res.writeHead(201, { Location: '/v2/lab/x/blobs/sha256:0' }).end();
  };
  const service = new RegistryService();
  const pushRepo = await service.repository(host, 'lab/x', { push: true });
  const mounted = await pushRepo.transport.request({
    method: 'POST',
    endpoint: pushRepo.endpoints[pushRepo.endpoints.length - 1]!,
    path: `blobs/uploads/?mount=${desc.digest}&from=lab/source`,
    scopes: ['repository:lab/source:pull'],
    lastHost: true,
  });
  mounted.body.resume();
  assert.equal(mounted.status, 201);
  assert.deepEqual(tokenScopes, [['repository:lab/source:pull', 'repository:lab/x:pull,push']]);
  assert.equal(seen.filter((s) => s.host === host)[1]?.url, `/v2/lab/x/blobs/uploads/?mount=${desc.digest}&from=lab/source`);
});

test('a 307 repeats a PUT with its body; a 303 turns a POST into a GET', async () => {
  seen.length = 0;
  const bodies: Buffer[] = [];
  handler = (req, res) => {
    void bodyOf(req).then((body) => {
      if (req.url?.startsWith('/v2/lab/x/manifests/')) {
        res.writeHead(req.method === 'PUT' ? 307 : 303, { Location: `/moved${req.url}` }).end();
        return;
      }
      bodies.push(body);
      res.writeHead(201).end();
    });
  };
  const r = await repo();
  const endpoint = r.endpoints[r.endpoints.length - 1]!;
  const put = await r.transport.request({ method: 'PUT', endpoint, path: 'manifests/v1', body: Buffer.from('{"a":1}'), lastHost: true });
  put.body.resume();
  const post = await r.transport.request({ method: 'POST', endpoint, path: 'manifests/v2', body: Buffer.from('{"b":2}'), lastHost: true });
  post.body.resume();
  assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
    'PUT /v2/lab/x/manifests/v1',
    'PUT /moved/v2/lab/x/manifests/v1',
    'POST /v2/lab/x/manifests/v2',
    'GET /moved/v2/lab/x/manifests/v2',
  ]);
  assert.deepEqual(bodies.map(String), ['{"a":1}', '']);
});
