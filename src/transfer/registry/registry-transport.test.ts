import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { FsContentStore } from '../../content/fs-content-store.js';
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
