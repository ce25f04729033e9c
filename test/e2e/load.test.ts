// docker load of what issue 12 found wanting: big zstd bodies, zstd layers, a client that goes away,
// archives that lack another platform's content, and progress when not quiet.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, createReadStream, createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Daemon, DOCKER } from '../support/daemon.js';
import { run, runOk, type RunResult } from '../support/exec.js';
import { hex, MT, multiPlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';

const LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Text that zstd packs about 10:1, as real layers go: what made the decoder stop (issue 12). */
function compressibleText(bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `${i} ${sha256(String(i % 101))}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** A layer tar of one file at `name` in a fresh directory under `dir`; returns the tar's path. */
async function layerTar(dir: string, name: string, content: (file: string) => Promise<void> | void): Promise<string> {
  const root = path.join(dir, `${name}.root`);
  mkdirSync(root, { recursive: true });
  await content(path.join(root, name));
  const file = path.join(dir, `${name}.tar`);
  await runOk('tar', ['-C', root, '-cf', file, name]);
  return file;
}

/** `bytes` of random data, written in pieces: random content does not compress to nothing. */
async function randomFile(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  for (let left = bytes; left > 0; left -= 1 << 20) {
    if (!out.write(randomBytes(Math.min(left, 1 << 20)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * An OCI layout tar of one image named `ref`, its layers as given (already compressed or not),
 * compressed whole with the zstd CLI.
 */
async function zstdLayoutArchive(
  dir: string,
  ref: string,
  layers: Array<{ blob: string; mediaType: string; diffId: string }>,
): Promise<string> {
  const layout = path.join(dir, 'layout');
  const blobs = path.join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer | string): string => {
    const digest = sha256(data);
    writeFileSync(path.join(blobs, hex(digest)), data);
    return digest;
  };
  const layerDescs = [];
  for (const layer of layers) {
    const digest = await sha256File(layer.blob);
    cpSync(layer.blob, path.join(blobs, hex(digest)));
    layerDescs.push({ mediaType: layer.mediaType, digest, size: statSync(layer.blob).size });
  }
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
  const configDesc = { mediaType: MT.config, digest: put(config), size: Buffer.byteLength(config) };
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers: layerDescs });
  const top = {
    mediaType: MT.manifest,
    digest: put(manifest),
    size: Buffer.byteLength(manifest),
    annotations: { 'io.containerd.image.name': ref },
  };
  writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [top] }));
  const plain = path.join(dir, 'image.tar');
  await runOk('tar', ['-C', layout, '-cf', plain, 'oci-layout', 'index.json', 'blobs']);
  await runOk('zstd', ['-q', '-f', '--rm', plain, '-o', `${plain}.zst`]);
  return `${plain}.zst`;
}

/** A tar of a layout directory. */
async function tarOf(layout: string, file: string): Promise<string> {
  await runOk('tar', ['-C', layout, '-cf', file, '.']);
  return file;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('docker load: zstd bodies, skipped platforms, progress', { timeout: 600_000 }, () => {
  let d: Daemon;
  let big: string;
  let zstdLayers: string;

  before(async () => {
    d = await Daemon.start();
    // About 60 MB of body: a random layer (50 MB that zstd cannot shrink) and a text one it can.
    const dir = tempDir('load-big');
    const random = await layerTar(dir, 'random.bin', (file) => randomFile(file, 50 * 1024 * 1024));
    const text = await layerTar(dir, 'text.txt', (file) => writeFileSync(file, compressibleText(24 * 1024 * 1024)));
    big = await zstdLayoutArchive(dir, 'docker.io/library/zstd-big:v1', [
      { blob: text, mediaType: MT.layer, diffId: await sha256File(text) },
      { blob: random, mediaType: MT.layer, diffId: await sha256File(random) },
    ]);
    // zstd layers inside a zstd body.
    const zdir = tempDir('load-zlayers');
    const layers = [];
    for (const [name, bytes] of [['one.txt', 3_000_000], ['two.txt', 700_000]] as const) {
      const tarFile = await layerTar(zdir, name, (file) => writeFileSync(file, compressibleText(bytes)));
      await runOk('zstd', ['-q', '-f', tarFile, '-o', `${tarFile}.zst`]);
      layers.push({ blob: `${tarFile}.zst`, mediaType: LAYER_ZSTD, diffId: await sha256File(tarFile) });
    }
    // And a plain one that the body's zstd packs, as a real image's config and text layers are.
    const plainText = await layerTar(zdir, 'three.txt', (file) => writeFileSync(file, compressibleText(2_000_000)));
    layers.push({ blob: plainText, mediaType: MT.layer, diffId: await sha256File(plainText) });
    zstdLayers = await zstdLayoutArchive(zdir, 'docker.io/library/zstd-layers:v1', layers);
  });
  after(async () => {
    await d?.stop();
  });

  function ok(res: RunResult, what: string): RunResult {
    assert.equal(res.code, 0, `${what} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}\n${d.logs()}`);
    return res;
  }

  function ingestFiles(): string[] {
    return readdirSync(path.join(d.dataRoot, 'content', 'ingest'));
  }

  it('docker load -i of a zstd body of 60 MB', async () => {
    assert.ok(statSync(big).size > 50 * 1024 * 1024, `the body is ${statSync(big).size} bytes`);
    const res = ok(await d.docker(['load', '-i', big], { timeoutMs: 300_000 }), 'docker load -i big.tar.zst');
    assert.equal(res.stdout.trim(), 'Loaded image: zstd-big:v1');
    const inspect = ok(await d.docker(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', 'zstd-big:v1']), 'inspect');
    assert.equal(inspect.stdout.trim(), '2');
    assert.deepEqual(ingestFiles(), []);
  });

  it('docker load -i of zstd layers inside a zstd body', async () => {
    const res = ok(await d.docker(['load', '-i', zstdLayers], { timeoutMs: 120_000 }), 'docker load -i zstd-layers');
    assert.equal(res.stdout.trim(), 'Loaded image: zstd-layers:v1');
    const inspect = ok(await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'zstd-layers:v1']), 'inspect');
    assert.equal(JSON.parse(inspect.stdout).length, 3);
  });

  it('a load whose client goes away mid-body leaves no ingest file and does not hold up SIGTERM', async () => {
    const body = readFileSync(big);
    const daemon = await Daemon.start();
    try {
      const req = http.request({
        socketPath: daemon.socket,
        path: '/v1.51/images/load?quiet=1',
        method: 'POST',
        headers: { Host: 'docker', 'Content-Type': 'application/x-tar', 'Content-Length': String(body.length) },
      });
      req.on('error', () => undefined);
      req.write(body.subarray(0, 20 * 1024 * 1024));
      const ingest = path.join(daemon.dataRoot, 'content', 'ingest');
      // Mid-body: the daemon is writing a blob of it.
      for (let i = 0; i < 600 && readdirSync(ingest).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.notDeepEqual(readdirSync(ingest), [], 'the load was writing a blob');
      req.destroy();
      for (let i = 0; i < 200 && readdirSync(ingest).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(readdirSync(ingest), [], 'the abandoned load left ingest files behind');
      const started = Date.now();
      await daemon.stop();
      // The daemon waits 15 s for requests in flight; an abandoned load must not be one.
      assert.ok(Date.now() - started < 5_000, `SIGTERM took ${Date.now() - started} ms`);
    } finally {
      await daemon.stop().catch(() => undefined);
    }
  });

  describe('an index with another platform content absent', () => {
    let multi: ImageFixture;
    let layout: string;

    /** skopeo copies the whole index into a layout, which the tests then take a blob from. */
    async function layoutOf(fx: ImageFixture): Promise<string> {
      const dir = path.join(tempDir('load-skip'), 'layout');
      await runOk('skopeo', ['copy', '--quiet', '--all', '--preserve-digests', `oci:${fx.layoutDir}:${fx.tag}`, `oci:${dir}:${fx.ref}`], {
        timeoutMs: 120_000,
      });
      return dir;
    }

    before(async () => {
      multi = await multiPlatformImage({ repo: 'lading-skip' });
      layout = await layoutOf(multi);
    });

    function archiveWithout(digest: string, name: string, from = layout): Promise<string> {
      const copy = path.join(tempDir('load-skip'), 'layout');
      cpSync(from, copy, { recursive: true });
      rmSync(path.join(copy, 'blobs', 'sha256', hex(digest)));
      return tarOf(copy, path.join(path.dirname(copy), name));
    }

    // First, while the store has none of this image: a blob the store has counts as present.
    it("the host platform's content must still be whole", async () => {
      const [amd64] = multi.images;
      const file = await archiveWithout(amd64!.layers[1]!.digest, 'no-amd64-layer.tar');
      const res = await d.docker(['load', '-i', file]);
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stderr, new RegExp(`content ${amd64!.layers[1]!.digest} is missing from the archive`));
    });

    it('loads, and Manifests says the platform is not Available', async () => {
      const [amd64, arm64] = multi.images;
      assert.ok(amd64 && arm64);
      const file = await archiveWithout(arm64.layers[0]!.digest, 'no-arm64-layer.tar');
      const res = ok(await d.docker(['load', '-i', file]), 'docker load');
      assert.equal(res.stdout.trim(), 'Loaded image: lading-skip:v1');
      const id = ok(await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'lading-skip:v1']), 'inspect');
      assert.equal(id.stdout.trim(), multi.id);
      const doc = (await d.request('/v1.51/images/lading-skip:v1/json?manifests=1')).json<{
        Manifests: Array<{ ID: string; Available: boolean }>;
      }>();
      const available = Object.fromEntries(doc.Manifests.map((m) => [m.ID, m.Available]));
      assert.equal(available[amd64.manifest.digest], true);
      assert.equal(available[arm64.manifest.digest], false);
      assert.deepEqual(ingestFiles(), []);
    });

    it('--platform of that platform: refused in Docker 28.5 words', async () => {
      const [, arm64] = multi.images;
      const file = await archiveWithout(arm64!.layers[0]!.digest, 'no-arm64-layer.tar');
      const res = await d.docker(['load', '--platform', 'linux/arm64/v8', '-i', file]);
      assert.equal(res.code, 1, res.stdout);
      assert.equal(
        res.stderr.trim(),
        "Error response from daemon: image lading-skip:v1 was loaded, but doesn't provide the requested platform (linux/arm64/v8)",
      );
      const amd = ok(await d.docker(['load', '--platform', 'linux/amd64', '-i', file]), 'docker load --platform linux/amd64');
      assert.equal(amd.stdout.trim(), 'Loaded image: lading-skip:v1');
    });

    it('--platform of a platform whose manifest is absent: Docker 28.5 words too', async () => {
      // Another image: this one's arm64 manifest must be in no store yet.
      const fx = await multiPlatformImage({ repo: 'lading-skipm' });
      const manifest = fx.images[1]!.manifest.digest;
      const file = await archiveWithout(manifest, 'no-arm64-manifest.tar', await layoutOf(fx));
      const res = await d.docker(['load', '--platform', 'linux/arm64/v8', '-i', file]);
      assert.equal(res.code, 1, res.stdout);
      assert.equal(
        res.stderr.trim(),
        `Error response from daemon: requested platform (linux/arm64/v8) found, but some content is missing: content digest ${manifest}: not found`,
      );
    });
  });

  describe('progress', () => {
    it('without quiet: Loading layer lines with current and total, then Loaded image', async () => {
      const res = await d.request('/v1.51/images/load?quiet=0', { method: 'POST', body: readFileSync(zstdLayers), timeoutMs: 120_000 });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      const lines = jsonLines(res.text);
      assert.deepEqual(lines.at(-1), { stream: 'Loaded image: zstd-layers:v1\n' });
      const progress = lines.slice(0, -1);
      assert.ok(progress.length >= 2, res.text);
      const last = new Map<string, { current: number; total: number }>();
      for (const line of progress) {
        assert.deepEqual(Object.keys(line), ['status', 'progressDetail', 'progress', 'id'], JSON.stringify(line));
        assert.equal(line.status, 'Loading layer');
        assert.match(line.id as string, /^[0-9a-f]{12}$/);
        assert.match(line.progress as string, /^\[=*>? *\] +[\d.]+[kMG]?B\/[\d.]+[kMG]?B$/);
        last.set(line.id as string, line.progressDetail as { current: number; total: number });
      }
      assert.equal(last.size, 3, 'one line per layer at least');
      for (const detail of last.values()) assert.equal(detail.current, detail.total);
    });

    it('at API 1.52 (Docker 29.7): the same lines without the progress bar', async () => {
      const res = await d.request('/v1.52/images/load?quiet=0', { method: 'POST', body: readFileSync(zstdLayers), timeoutMs: 120_000 });
      assert.equal(res.status, 200);
      const lines = jsonLines(res.text);
      assert.deepEqual(lines.at(-1), { stream: 'Loaded image: zstd-layers:v1\n' });
      const progress = lines.slice(0, -1);
      assert.ok(progress.length >= 2, res.text);
      for (const line of progress) assert.deepEqual(Object.keys(line), ['status', 'progressDetail', 'id'], JSON.stringify(line));
    });

    it('with quiet, or by default: only the Loaded line', async () => {
      for (const query of ['?quiet=1', '']) {
        const res = await d.request(`/v1.51/images/load${query}`, { method: 'POST', body: readFileSync(zstdLayers), timeoutMs: 120_000 });
        assert.equal(res.status, 200);
        assert.deepEqual(jsonLines(res.text), [{ stream: 'Loaded image: zstd-layers:v1\n' }], query);
      }
    });

    it('docker load on a terminal draws the layer lines', async () => {
      // script(1) gives the CLI a pseudo-terminal, so it asks for progress (quiet=0) and draws it.
      const config = tempDir('docker-config');
      writeFileSync(path.join(config, 'config.json'), '{}\n');
      const env = { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false' };
      const res = await run('script', ['-qec', `${DOCKER} load -i ${zstdLayers}`, '/dev/null'], { env, timeoutMs: 120_000 });
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /[0-9a-f]{12}: Loading layer +[\d.]+[kM]?B\/[\d.]+[kM]?B/);
      assert.match(res.stdout, /Loaded image: zstd-layers:v1/);
    });

    it('an error after the first layer line goes in the stream; the CLI prints it and fails', async () => {
      // The zstd body cut short: its layers have started when the tar ends.
      const body = readFileSync(big);
      const res = await d.request('/v1.51/images/load?quiet=0', { method: 'POST', body: body.subarray(0, body.length >> 1), timeoutMs: 120_000 });
      assert.equal(res.status, 200);
      const lines = jsonLines(res.text);
      assert.equal(lines[0]?.status, 'Loading layer');
      const error = lines.at(-1) as { errorDetail?: { message: string }; error?: string };
      assert.ok(error.error && error.errorDetail?.message === error.error, res.text.slice(-500));
      assert.deepEqual(ingestFiles(), []);
    });
  });
});
