// Hostile input against a running ladingd: archives that point out of the archive, bombs, lying
// headers, giant or deep JSON, absurd requests, slow and vanishing clients. Every case must end in a
// 4xx with a clear message (or a cut connection when the client is gone), nothing written outside
// the data root, nothing lost, and the daemon still serving.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MediaType } from '../../src/oci/media-types.js';
import { buildTar } from '../../src/archive/testing/archive-builder.js';
import {
  gzipZeroLayer,
  paxEntry,
  rawEntry,
  tarOfRaw,
  zstdRle,
  zstdZeroLayer,
  ociArchiveWithLayer,
} from '../../src/archive/testing/hostile-archives.js';
import { Daemon, type HttpResponse } from '../support/daemon.js';
import { dockerArchive, singlePlatformImage } from '../support/images.js';
import { tempDir } from '../support/paths.js';

const IDLE_S = 2;

describe('hostile input', { timeout: 600_000 }, () => {
  let d: Daemon;
  let sentinel: string;
  let keepId: string;
  let baselineBlobs: string[];
  let good: Buffer;

  before(async () => {
    good = readFileSync(await dockerArchive(await singlePlatformImage(), { name: 'lading-keep:1' }));
    sentinel = path.join(tempDir('sentinel'), 'outside');
    mkdirSync(sentinel);
    writeFileSync(path.join(sentinel, 'secret'), 'untouched\n');
    d = await Daemon.start({
      logLevel: 'info',
      extraArgs: ['--max-unpacked-layer-size', '64MiB', '--upload-idle-timeout', String(IDLE_S), '--request-header-timeout', String(IDLE_S)],
    });
    const loaded = await load(good);
    assert.equal(loaded.status, 200, loaded.text);
    keepId = (await d.request('/images/lading-keep:1/json')).json<{ Id: string }>().Id;
    baselineBlobs = blobs();
  });
  after(async () => {
    await d?.stop();
  });

  function load(body: Buffer | string, query = ''): Promise<HttpResponse> {
    return d.request(`/v1.51/images/load${query}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 120_000 });
  }

  function blobs(): string[] {
    return readdirSync(path.join(d.dataRoot, 'content', 'blobs', 'sha256')).sort();
  }

  /** Every file under `dir`, relative, for finding strays. */
  function walk(dir: string, base = dir): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      return e.isDirectory() ? walk(full, base) : [path.relative(base, full)];
    });
  }

  /** The four promises: nothing outside the data root, nothing half-kept, nothing lost, still serving. */
  async function assertIntact(what: string): Promise<void> {
    assert.deepEqual(readdirSync(sentinel), ['secret'], `${what}: nothing new beside the sentinel`);
    assert.equal(readFileSync(path.join(sentinel, 'secret'), 'utf8'), 'untouched\n', `${what}: sentinel untouched`);
    assert.deepEqual(readdirSync(path.dirname(sentinel)), ['outside'], `${what}: nothing new outside the data root`);
    // The ingest area empties once the failed load has cleaned up: give it a moment.
    let ingest: string[] = [];
    for (let i = 0; i < 50; i++) {
      ingest = readdirSync(path.join(d.dataRoot, 'content', 'ingest'));
      if (ingest.length === 0 && blobs().length === baselineBlobs.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(ingest, [], `${what}: nothing left in ingest`);
    assert.deepEqual(blobs(), baselineBlobs, `${what}: no blob kept, none lost`);
    // Blobs, SQLite's files, the full-disk reserve and the daemon's own markers (ladingd.lock and the like); nothing else.
    const unexpected = walk(d.dataRoot).filter((f) => !/^(content\/blobs\/sha256\/[0-9a-f]{64}|metadata\.(db(-wal|-shm|-journal)?|reserve)|ladingd\.[a-z]+)$/.test(f));
    assert.deepEqual(unexpected, [], `${what}: nothing else in the data root`);
    const ping = await d.request('/_ping');
    assert.equal(ping.text, 'OK', `${what}: still serving\n${d.logs()}`);
    const keep = await d.request('/images/lading-keep:1/json');
    assert.equal(keep.status, 200, `${what}: the loaded image is still there`);
    assert.equal(keep.json<{ Id: string }>().Id, keepId);
    assert.equal((await d.request('/images/hostile:1/json')).status, 404, `${what}: no image from the hostile archive`);
  }

  async function refused(body: Buffer, message: RegExp, what: string): Promise<void> {
    const res = await load(body);
    assert.ok(res.status >= 400 && res.status < 500, `${what}: status ${res.status}: ${res.text}\n${d.logs()}`);
    assert.match(res.json<{ message: string }>().message, message, what);
    await assertIntact(what);
  }

  it('entries that name paths outside the archive', async () => {
    for (const name of [path.join(sentinel, 'pwned'), `../../../../../..${sentinel}/pwned`, 'blobs/../../pwned']) {
      const archive = tarOfRaw([rawEntry({ name: 'manifest.json', data: Buffer.from('[]') }), rawEntry({ name, data: Buffer.from('pwned\n') })]);
      await refused(archive, /^invalid archive entry name: /, name);
    }
  });

  it('symlinks and hard links that point outside, used as layers or written through', async () => {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:' + '1'.repeat(64)] } });
    const manifest = JSON.stringify([{ Config: 'c.json', RepoTags: ['hostile:1'], Layers: ['l/layer.tar'] }]);
    const cases: Array<[string, 'symlink' | 'link', RegExp]> = [
      [path.join(sentinel, 'secret'), 'symlink', /points outside the archive/],
      ['../../outside/secret', 'symlink', /points outside the archive/],
      [path.join(sentinel, 'secret'), 'link', /points outside the archive/],
      ['../outside/secret', 'link', /points outside the archive/],
    ];
    for (const [linkname, type, message] of cases) {
      const archive = await buildTar([
        { name: 'c.json', data: config },
        { name: 'l/layer.tar', type, linkname },
        { name: 'manifest.json', data: manifest },
      ]);
      await refused(archive, message, `${type} to ${linkname}`);
    }
    // A symlink to a directory outside, then a file "inside" it: nothing is ever extracted.
    const through = await buildTar([
      { name: 'evil', type: 'symlink', linkname: sentinel },
      { name: 'evil/pwned', data: 'pwned\n' },
      { name: 'manifest.json', data: '[]' },
    ]);
    const res = await load(through);
    assert.equal(res.status, 200, 'an archive of no images loads nothing');
    await assertIntact('file through a symlink');
  });

  it('huge, endless and lying tar headers', async () => {
    await refused(Buffer.concat([rawEntry({ name: 'PaxHeaders/x', type: 'x', size: 512 * 1024 * 1024 }), Buffer.alloc(8192)]), /archive\/tar: header field too long/, 'huge PAX header');
    await refused(tarOfRaw([paxEntry({ path: 'x'.repeat(10_000) }), rawEntry({ name: 'f', data: Buffer.from('x') })]), /name is longer than 4096 bytes/, 'long name');
    const endless = Buffer.concat(Array.from({ length: 64 }, () => paxEntry({ comment: 'y'.repeat(200_000) })));
    await refused(endless, /archive\/tar: |unrecognized image format/, 'endless PAX headers');
    await refused(tarOfRaw([rawEntry({ name: 'big', size: 2 ** 40, data: Buffer.from('tiny') })]), /unexpected EOF/, 'lying size');
  });

  it('gzip and zstd bombs, in a layer and as the whole body', async () => {
    await refused(
      ociArchiveWithLayer(gzipZeroLayer(96 * 1024 * 1024), 'sha256:' + '2'.repeat(64), MediaType.ociLayerGzip),
      /expands to more than 67108864 bytes uncompressed \(the limit of --max-unpacked-layer-size\)/,
      'gzip layer past --max-unpacked-layer-size',
    );
    // 2 GiB of zeros in 64 KiB: the ratio guard stops it after 1 GiB.
    await refused(
      ociArchiveWithLayer(zstdZeroLayer(2 * 1024 ** 3), 'sha256:' + '3'.repeat(64), MediaType.ociLayerZstd),
      /expands (more than 1000 times|to more than 67108864 bytes)/,
      'zstd layer bomb',
    );
    const bodyBomb = zstdRle(rawEntry({ name: 'zeros', size: 3 * 1024 ** 3 }), 3 * 1024 ** 3);
    await refused(bodyBomb, /^the zstd-compressed archive expands more than 1000 times/, 'zstd body bomb');
  });

  it('duplicate entries, deep, giant and broken JSON, invalid UTF-8', async () => {
    await refused(
      await buildTar([{ name: 'manifest.json', data: '[]' }, { name: 'manifest.json', data: '[{"Config":"x"}]' }]),
      /^duplicate archive entry "manifest.json" with different content$/,
      'duplicate manifest.json',
    );
    await refused(await buildTar([{ name: 'manifest.json', data: '['.repeat(100_000) }]), /^invalid JSON in manifest.json: exceeded max depth$/, 'deep JSON');
    await refused(await buildTar([{ name: 'manifest.json', data: `[${'"x",'.repeat(2_000_000)}"x"]` }]), /more than the limit of 4194304/, 'giant JSON');
    const badUtf8 = Buffer.concat([Buffer.from('[{"Config":"c","RepoTags":["x'), Buffer.from([0xc3, 0x28]), Buffer.from(':1"],"Layers":[]}]')]);
    await refused(tarOfRaw([rawEntry({ name: 'c', data: Buffer.from('{}') }), rawEntry({ name: 'manifest.json', data: badUtf8 })]), /invalid reference format/, 'invalid UTF-8 in JSON');
    await refused(tarOfRaw([rawEntry({ name: Buffer.from([0x6d, 0xff, 0x2f, 0x2e, 0x2e, 0x2f, 0x2e, 0x2e, 0x2f, 0x78]), data: Buffer.from('x') })]), /invalid archive entry name/, 'invalid UTF-8 name climbing out');
  });

  it('headers, URLs and query strings of absurd length', async () => {
    const bigHeader = await d.request('/_ping', { headers: { 'X-Junk': 'j'.repeat(300 * 1024) } });
    assert.equal(bigHeader.status, 431);
    assert.match(bigHeader.json<{ message: string }>().message, /request line and headers exceed 262144 bytes/);
    const longUrl = await d.request(`/images/${'a'.repeat(100 * 1024)}/json`);
    assert.equal(longUrl.status, 400);
    assert.equal(longUrl.json<{ message: string }>().message, 'request URL too long');
    const longQuery = await d.request(`/images/lading-keep:1/json?${'x=1&'.repeat(60_000)}`);
    assert.ok([400, 431].includes(longQuery.status), `status ${longQuery.status}`);
    // Only a refused upload loses its connection; an error without a body keeps it.
    const notFound = await d.request('/nope');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.connection, 'keep-alive');
    const badEscape = await d.request('/images/%FF%FE/json');
    assert.equal(badEscape.status, 400);
    const rawBytes = await rawExchange(d.socket, Buffer.concat([Buffer.from('GET /images/'), Buffer.from([0xff, 0x00]), Buffer.from('/json HTTP/1.1\r\nHost: x\r\n\r\n')]));
    assert.match(rawBytes, /^HTTP\/1\.1 4\d\d /);
    await assertIntact('absurd requests');
  });

  it('a client too slow with its headers gets 408, then the connection closes', async () => {
    const started = Date.now();
    const answer = await rawExchange(d.socket, Buffer.from('POST /v1.51/images/load HTTP/1.1\r\nHost: x\r\n'), { keepOpen: true });
    const waited = Date.now() - started;
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(answer, /timed out waiting for the request headers/);
    assert.ok(waited >= IDLE_S * 1000 - 100 && waited < IDLE_S * 1000 + 5000, `cut after ${waited} ms`);
    await assertIntact('slow headers');
  });

  it('an upload that stalls is cut; one that is slow but steady loads', async () => {
    const half = good.subarray(0, good.length >> 1);
    const socket = await openLoad(d.socket, good.length);
    socket.write(half);
    const closed = await new Promise<number>((resolve) => {
      const t = Date.now();
      socket.on('close', () => resolve(Date.now() - t));
      socket.resume();
    });
    assert.ok(closed >= IDLE_S * 1000 - 200 && closed < IDLE_S * 1000 + 5000, `stalled upload cut after ${closed} ms`);
    await assertIntact('stalled upload');
    assert.match(d.logs(64 * 1024), /no request data for 2s; closing the connection/);

    // Longer in all than the idle timeout, never idle that long: it must load.
    const steady = await openLoad(d.socket, good.length);
    const response = collect(steady);
    const pieces = 6;
    for (let i = 0; i < pieces; i++) {
      steady.write(good.subarray(Math.floor((good.length * i) / pieces), Math.floor((good.length * (i + 1)) / pieces)));
      await new Promise((r) => setTimeout(r, (IDLE_S * 1000) / 2));
    }
    const text = await response;
    assert.match(text, /^HTTP\/1\.1 200 OK/);
    assert.match(text, /Loaded image: lading-keep:1/);
    await assertIntact('steady slow upload');
  });

  it('a client that disconnects mid-upload or before the answer', async () => {
    for (const fraction of [0.1, 0.5, 0.95]) {
      const socket = await openLoad(d.socket, good.length);
      socket.write(good.subarray(0, Math.floor(good.length * fraction)));
      await new Promise((r) => setTimeout(r, 200));
      socket.destroy();
      await assertIntact(`disconnect at ${fraction * 100}%`);
    }
    // The whole body, then gone: the load finishes or leaves no trace, never half.
    const fresh = readFileSync(await dockerArchive(await singlePlatformImage(), { name: 'lading-gone:1' }));
    const socket = await openLoad(d.socket, fresh.length);
    socket.end(fresh);
    socket.destroy();
    await new Promise((r) => setTimeout(r, 1000));
    const gone = await d.request('/images/lading-gone:1/json');
    if (gone.status === 200) {
      const removed = await d.request('/images/lading-gone:1', { method: 'DELETE' });
      assert.ok(removed.status === 200 || removed.status === 404 || removed.status === 405, removed.text);
    } else {
      assert.equal(gone.status, 404);
    }
    assert.equal((await d.request('/_ping')).text, 'OK');

    // Mid-stream: a docker save read for a moment, then dropped.
    for (let i = 0; i < 3; i++) {
      const save = connect(d.socket, () => save.write('GET /v1.51/images/get?names=lading-keep%3A1 HTTP/1.1\r\nHost: x\r\n\r\n'));
      await new Promise<void>((resolve) => {
        let seen = 0;
        save.on('data', (b: Buffer) => {
          seen += b.length;
          if (seen > 1024 * (i + 1)) {
            save.destroy();
            resolve();
          }
        });
        save.on('close', () => resolve());
        save.on('error', () => resolve());
      });
    }
    if (gone.status !== 200) await assertIntact('save dropped mid-stream');
    assert.equal((await d.request('/_ping')).text, 'OK');
    assert.doesNotMatch(d.logs(256 * 1024), /level=error/, 'no internal error logged for any of it');
  });
});

/** Opens a connection and sends the headers of a load of `length` bytes. */
function openLoad(socketPath: string, length: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath, () => {
      socket.write(`POST /v1.51/images/load HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: ${length}\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

function collect(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      if (/\r\n0\r\n\r\n$/.test(text) || /Content-Length: \d+\r\n[\s\S]*\r\n\r\n[\s\S]+$/.test(text)) socket.end();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
}

/** Writes `data` on a fresh connection and returns everything read until the server closes it. */
function rawExchange(socketPath: string, data: Buffer, opts: { keepOpen?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath, () => {
      if (opts.keepOpen) socket.write(data);
      else socket.end(data);
    });
    let text = '';
    socket.on('data', (b: Buffer) => (text += b.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer in 30 s')));
  });
}

