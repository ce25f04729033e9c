// `docker history` and `docker save` against ladingd: the docker CLI, dockerode, docker-py, skopeo.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import Docker from 'dockerode';
import { Daemon, DOCKER } from '../support/daemon.js';
import { run, runOk, type RunResult } from '../support/exec.js';
import { assertInspect, expectImage, MAX_API } from '../support/expect.js';
import {
  hex,
  layoutTar,
  multiPlatformImage,
  ociArchive,
  sha256,
  singlePlatformImage,
  untar,
  type Descriptor,
  type ImageFixture,
  type PlatformImage,
} from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { buildTar } from '../../src/archive/testing/archive-builder.js';
import { OCI_LAYOUT, indexJson } from '../../src/archive/testing/image-builder.js';
import { buildImage, imageEntries, named } from '../../src/archive/testing/sample-images.js';

// docker CLI 28.2 negotiates API 1.50.
const CLI_API = '1.50';

interface HistoryItem {
  Comment: string;
  Created: number;
  CreatedBy: string;
  Id: string;
  Size: number;
  Tags: string[] | null;
}

/** What a layer takes unpacked, as Lading counts it: the bytes of its regular files. */
async function unpackedSize(fx: ImageFixture, layer: Descriptor): Promise<number> {
  let data = readFileSync(path.join(fx.layoutDir, 'blobs', 'sha256', hex(layer.digest)));
  if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  let total = 0;
  for (const file of (await untar(data)).values()) total += file.length;
  return total;
}

/** go-units' HumanSizeWithPrecision(size, 3): decimal units, three significant digits. */
function humanSize(size: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(3))}${units[i]}`;
}

/** The history Docker reports for a fixture image, newest first (sizes of the layers made). */
async function expectedHistory(fx: ImageFixture, img: PlatformImage): Promise<Array<Omit<HistoryItem, 'Id' | 'Tags'>>> {
  const sizes = await Promise.all(img.layers.map((l) => unpackedSize(fx, l)));
  let next = 0;
  const items = (img.configJson.history ?? []).map((h) => ({
    Comment: String(h.comment ?? ''),
    Created: h.created ? Math.floor(Date.parse(String(h.created)) / 1000) : 0,
    CreatedBy: String(h.created_by ?? ''),
    Size: h.empty_layer ? 0 : (sizes[next++] ?? NaN),
  }));
  return items.reverse();
}

/** A client environment for pipelines between two daemons: no user config, no hints. */
function shellEnv(): NodeJS.ProcessEnv {
  const config = tempDir('docker-config');
  writeFileSync(path.join(config, 'config.json'), '{}\n');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DOCKER_')) env[k] = v;
  return { ...env, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false' };
}

describe('docker history and docker save', { timeout: 600_000 }, () => {
  let d: Daemon;
  let single: ImageFixture;
  let multi: ImageFixture;
  let partial: ImageFixture;
  const fresh: Daemon[] = [];

  before(async () => {
    [single, multi, partial] = await Promise.all([
      singlePlatformImage(),
      multiPlatformImage(),
      multiPlatformImage({ omit: 'arm64' }),
    ]);
    d = await Daemon.start();
    for (const file of [await ociArchive(single), await ociArchive(multi), await layoutTar(partial)]) {
      ok(await d.docker(['load', '-i', file], { timeoutMs: 120_000 }), `docker load -i ${file}`);
    }
  });
  after(async () => {
    await Promise.all([d?.stop(), ...fresh.map((f) => f.stop())]);
  });

  function ok(res: RunResult, what: string): RunResult {
    assert.equal(res.code, 0, `${what} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}\n${d.logs()}`);
    return res;
  }

  async function freshDaemon(): Promise<Daemon> {
    const daemon = await Daemon.start();
    fresh.push(daemon);
    return daemon;
  }

  async function inspectOn(daemon: Daemon, ref: string): Promise<Record<string, unknown>> {
    const res = await daemon.docker(['image', 'inspect', ref]);
    assert.equal(res.code, 0, `inspect ${ref}: ${res.stderr}`);
    return (JSON.parse(res.stdout) as Array<Record<string, unknown>>)[0]!;
  }

  describe('GET /images/{name}/history', () => {
    it('the API answer: Go field order, newest first, sizes of the layers unpacked, Id and Tags on top', async () => {
      const res = await d.request('/v1.51/images/lading-single:v1/history');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      const items = res.json<HistoryItem[]>();
      for (const item of items) assert.deepEqual(Object.keys(item), ['Comment', 'Created', 'CreatedBy', 'Id', 'Size', 'Tags']);
      const expected = await expectedHistory(single, single.images[0]!);
      assert.deepEqual(
        items.map(({ Comment, Created, CreatedBy, Size }) => ({ Comment, Created, CreatedBy, Size })),
        expected,
      );
      assert.deepEqual(items.map((i) => [i.Id, i.Tags]), [
        [single.id, ['lading-single:v1']],
        ['<missing>', null],
        ['<missing>', null],
      ]);
    });

    it('platform= from API 1.48 (the Id stays the image ID), ignored below it; errors as inspect', async () => {
      const platform = encodeURIComponent('{"os":"linux","architecture":"arm64"}');
      const arm = (await d.request(`/v1.48/images/lading-multi:v1/history?platform=${platform}`)).json<HistoryItem[]>();
      const armExpected = await expectedHistory(multi, multi.images[1]!);
      assert.deepEqual(arm.map((i) => i.Size), armExpected.map((i) => i.Size));
      assert.equal(arm[0]?.Created, armExpected[0]?.Created);
      assert.equal(arm[0]?.Id, multi.id);
      const old = (await d.request(`/v1.47/images/lading-multi:v1/history?platform=${platform}`)).json<HistoryItem[]>();
      assert.equal(old[0]?.Created, (await expectedHistory(multi, multi.images[0]!))[0]?.Created, 'host platform');

      const missing = await d.request(`/v1.51/images/lading-partial:v1/history?platform=${platform}`);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.json(), {
        message: 'image with reference lading-partial:v1 was found but does not provide the specified platform (linux/arm64)',
      });
      const bad = await d.request(`/v1.51/images/lading-multi:v1/history?platform=${encodeURIComponent('{"os":"linux"}')}`);
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.json(), { message: 'both OS and Architecture must be provided' });
      const nosuch = await d.request('/v1.51/images/nosuch/history');
      assert.equal(nosuch.status, 404);
      assert.equal(nosuch.text, '{"message":"No such image: nosuch:latest"}\n');
    });

    it('a config without history: null, as Go writes a nil slice', async () => {
      const img = await buildImage({ architecture: 'amd64', os: 'linux' }, 'nohistory', []);
      const archive = await buildTar([OCI_LAYOUT, ...imageEntries(img), indexJson([named(img.manifest.desc, 'docker.io/library/nohistory:1')])]);
      const loaded = await d.request('/images/load', { method: 'POST', body: archive });
      assert.equal(loaded.status, 200, loaded.text);
      const res = await d.request('/images/nohistory:1/history');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'null\n');
      const cli = ok(await d.docker(['history', '-q', 'nohistory:1']), 'docker history');
      assert.equal(cli.stdout, '');
    });

    it('docker history: the table and its columns', async () => {
      const res = ok(await d.docker(['history', 'lading-single:v1']), 'docker history');
      const [header, ...rows] = res.stdout.trimEnd().split('\n').map((l) => l.trimEnd().split(/ {2,}/));
      assert.deepEqual(header, ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']);
      const expected = await expectedHistory(single, single.images[0]!);
      assert.equal(rows.length, expected.length);
      rows.forEach((row, i) => {
        const exp = expected[i]!;
        assert.equal(row[0], i === 0 ? hex(single.id).slice(0, 12) : '<missing>');
        assert.match(row[1] ?? '', / ago$/);
        assert.equal(row[2], exp.CreatedBy);
        assert.equal(row[3], humanSize(exp.Size));
        assert.equal(row[4], exp.Comment);
      });
    });

    it('docker history --no-trunc, --format, -q, -H=false', async () => {
      const full = ok(await d.docker(['history', '--no-trunc', '--format', '{{.ID}}|{{.Size}}|{{.CreatedBy}}', 'lading-multi:v1']), 'history');
      const expected = await expectedHistory(multi, multi.images[0]!);
      assert.deepEqual(
        full.stdout.trimEnd().split('\n'),
        expected.map((e, i) => `${i === 0 ? multi.id : '<missing>'}|${humanSize(e.Size)}|${e.CreatedBy}`),
      );
      const quiet = ok(await d.docker(['history', '-q', 'lading-single:v1']), 'history -q');
      assert.deepEqual(quiet.stdout.trimEnd().split('\n'), [hex(single.id).slice(0, 12), '<missing>', '<missing>']);
      const raw = ok(await d.docker(['history', '-H=false', '--format', '{{.Size}}', 'lading-single:v1']), 'history -H=false');
      const singleExpected = await expectedHistory(single, single.images[0]!);
      assert.deepEqual(raw.stdout.trimEnd().split('\n'), singleExpected.map((e) => String(e.Size)));
      const json = ok(await d.docker(['history', '--format', 'json', 'lading-single:v1']), 'history --format json');
      const first = JSON.parse(json.stdout.split('\n')[0]!) as Record<string, string>;
      assert.equal(first.ID, hex(single.id).slice(0, 12));
      assert.equal(first.Comment, singleExpected[0]?.Comment);
    });

    it('docker history --platform', async () => {
      const res = ok(await d.docker(['history', '--platform', 'linux/arm64', '--format', '{{.Size}}', 'lading-multi:v1']), 'history');
      const expected = await expectedHistory(multi, multi.images[1]!);
      assert.deepEqual(res.stdout.trimEnd().split('\n'), expected.map((e) => humanSize(e.Size)));
      const missing = await d.docker(['history', '--platform', 'linux/s390x', 'lading-multi:v1']);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr.trim(),
        'Error response from daemon: image with reference lading-multi:v1 was found but does not provide the specified platform (linux/s390x)',
      );
    });

    it('docker history of a missing image', async () => {
      const res = await d.docker(['history', 'nosuch']);
      assert.equal(res.code, 1);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr, 'Error response from daemon: No such image: nosuch:latest\n');
    });
  });

  describe('GET /images/get', () => {
    it('docker save -o: an OCI layout with manifest.json, streamed as application/x-tar', async () => {
      const file = path.join(tempDir('save'), 'single.tar');
      ok(await d.docker(['save', '-o', file, 'lading-single:v1']), 'docker save -o');
      const files = await untar(readFileSync(file));
      const img = single.images[0]!;
      const blobs = [img.manifest, img.config, ...img.layers].map((b) => `blobs/sha256/${hex(b.digest)}`).sort();
      assert.deepEqual([...files.keys()], [...blobs, 'index.json', 'manifest.json', 'oci-layout']);
      assert.deepEqual(JSON.parse(files.get('index.json')!.toString()), {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: single.target.mediaType,
            digest: single.id,
            size: single.target.size,
            annotations: { 'io.containerd.image.name': 'docker.io/library/lading-single:v1', 'org.opencontainers.image.ref.name': 'v1' },
          },
        ],
      });
      assert.deepEqual(JSON.parse(files.get('manifest.json')!.toString()), [
        { Config: `blobs/sha256/${hex(img.config.digest)}`, RepoTags: ['lading-single:v1'], Layers: img.layers.map((l) => `blobs/sha256/${hex(l.digest)}`) },
      ]);
      for (const [name, data] of files) if (name.startsWith('blobs/')) assert.equal(sha256(data), `sha256:${name.slice(13)}`);

      const res = await d.request('/v1.51/images/get?names=lading-single%3Av1');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/x-tar');
      assert.deepEqual(res.body, readFileSync(file), 'the same bytes every time');
    });

    it('docker save | docker load into a fresh ladingd keeps Id, RepoTags, layers and config', async () => {
      const target = await freshDaemon();
      const res = await run(
        'bash',
        ['-o', 'pipefail', '-c', `"$0" -H "unix://$1" save lading-multi:v1 lading-single:v1 | "$0" -H "unix://$2" load`, DOCKER, d.socket, target.socket],
        { env: shellEnv(), timeoutMs: 120_000 },
      );
      assert.equal(res.code, 0, `save | load: ${res.stderr}\n${target.logs()}`);
      assert.deepEqual(res.stdout.trim().split('\n'), ['Loaded image: lading-multi:v1', 'Loaded image: lading-single:v1']);
      assertInspect(await inspectOn(target, 'lading-single:v1'), expectImage(single, { apiVersion: CLI_API }));
      assertInspect(await inspectOn(target, 'lading-multi:v1'), expectImage(multi, { apiVersion: CLI_API }));
      const armInspect = await target.docker(['image', 'inspect', '--platform', 'linux/arm64', 'lading-multi:v1']);
      assert.equal(armInspect.code, 0, 'every platform travels');
      const history = (await target.request('/images/lading-single:v1/history')).json<HistoryItem[]>();
      assert.deepEqual(history, (await d.request('/images/lading-single:v1/history')).json<HistoryItem[]>());
    });

    it('docker save --platform: that manifest only, loaded under the name', async () => {
      const file = path.join(tempDir('save'), 'arm.tar');
      ok(await d.docker(['save', '--platform', 'linux/arm64', '-o', file, 'lading-multi:v1']), 'docker save --platform');
      const target = await freshDaemon();
      const loaded = await target.docker(['load', '-i', file]);
      assert.equal(loaded.stdout.trim(), 'Loaded image: lading-multi:v1', loaded.stderr);
      const doc = await inspectOn(target, 'lading-multi:v1');
      assert.equal(doc.Id, multi.images[1]?.manifest.digest);
      assert.equal(doc.Architecture, 'arm64');

      const missing = await d.docker(['save', '--platform', 'linux/arm64', '-o', file, 'lading-partial:v1']);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr.trim(),
        'Error response from daemon: no suitable export target found: image with reference lading-partial:v1 was found but does not provide the specified platform (linux/arm64)',
      );
    });

    it('a partial multi-platform image: the platforms that are here, the index whole', async () => {
      const file = path.join(tempDir('save'), 'partial.tar');
      ok(await d.docker(['save', '-o', file, 'lading-partial']), 'docker save of a repository');
      const files = await untar(readFileSync(file));
      assert.ok(files.has(`blobs/sha256/${hex(partial.id)}`));
      assert.ok(!files.has(`blobs/sha256/${hex(partial.images[1]!.manifest.digest)}`));
      const target = await freshDaemon();
      assert.equal((await target.docker(['load', '-i', file])).stdout.trim(), 'Loaded image: lading-partial:v1');
      assert.equal((await inspectOn(target, 'lading-partial:v1')).Id, partial.id);
    });

    it('docker save of a missing image: exit 1 with the daemon text, no file', async () => {
      const dir = tempDir('save');
      const res = await d.docker(['save', '-o', path.join(dir, 'x.tar'), 'nosuch']);
      assert.equal(res.code, 1);
      assert.equal(res.stderr, 'Error response from daemon: No such image: nosuch:latest\n');
      const tagged = await d.docker(['save', '-o', path.join(dir, 'y.tar'), 'lading-single:v1', 'lading-single:nosuch']);
      assert.equal(tagged.code, 1);
      assert.equal(tagged.stderr, 'Error response from daemon: No such image: lading-single:nosuch\n');
    });

    it('errors before the stream are JSON; two platforms are refused', async () => {
      const nosuch = await d.request('/v1.51/images/nosuch:1/get');
      assert.equal(nosuch.status, 404);
      assert.equal(nosuch.headers['content-type'], 'application/json');
      assert.deepEqual(nosuch.json(), { message: 'No such image: nosuch:1' });
      const p = encodeURIComponent('{"os":"linux","architecture":"amd64"}');
      const two = await d.request(`/v1.51/images/get?names=lading-single:v1&platform=${p}&platform=${p}`);
      assert.equal(two.status, 400);
      assert.deepEqual(two.json(), { message: 'multiple platform parameters not supported' });
      const old = await d.request(`/v1.47/images/get?names=lading-single:v1&platform=${p}&platform=${p}`);
      assert.equal(old.status, 200, 'ignored below API 1.48');
    });

    it('a client that goes away mid-stream costs nothing; a blob that went bad cuts the connection', async () => {
      const target = await freshDaemon();
      assert.equal((await target.docker(['load', '-i', await ociArchive(single)])).code, 0);
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ socketPath: target.socket, path: '/images/lading-single:v1/get' }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      assert.equal((await target.request('/_ping')).text, 'OK');

      // The layer's bytes change on disk after the archive was planned: the store's digest check fails.
      const layer = single.images[0]!.layers[0]!;
      const blobFile = path.join(target.dataRoot, 'content', 'blobs', 'sha256', hex(layer.digest));
      chmodSync(blobFile, 0o644);
      writeFileSync(blobFile, Buffer.alloc(layer.size, 0x55));
      await assert.rejects(target.request('/images/lading-single:v1/get'), 'the response is cut, not ended');
      const cli = await target.docker(['save', '-o', path.join(tempDir('save'), 'bad.tar'), 'lading-single:v1']);
      assert.equal(cli.code, 1, 'docker save fails rather than keep a truncated archive');
      assert.match(target.logs(), new RegExp(`level=error msg="store corruption: blob ${layer.digest} does not match its digest`));
      assert.equal((await target.request('/_ping')).text, 'OK');
    });

    it("skopeo reads it as a docker-archive and as an OCI archive, with the same digests", async () => {
      const dir = tempDir('skopeo');
      const file = path.join(dir, 'multi.tar');
      ok(await d.docker(['save', '-o', file, 'lading-multi:v1']), 'docker save');
      const img = multi.images[0]!;
      // docker-archive: manifest.json's image, the host platform's, layers by their diff IDs.
      const inspected = JSON.parse((await runOk('skopeo', ['inspect', `docker-archive:${file}`])).stdout) as Record<string, unknown>;
      assert.deepEqual(inspected.Layers, img.diffIds);
      assert.equal(inspected.Architecture, 'amd64');
      const config = (await runOk('skopeo', ['inspect', '--config', '--raw', `docker-archive:${file}`])).stdout;
      assert.equal(sha256(config), img.config.digest, 'the config byte for byte');
      const ociDir = path.join(dir, 'oci');
      await runOk('skopeo', ['copy', '--quiet', `docker-archive:${file}`, `oci:${ociDir}:copied`], { timeoutMs: 120_000 });
      const copied = JSON.parse((await runOk('skopeo', ['inspect', '--config', '--raw', `oci:${ociDir}:copied`])).stdout) as {
        rootfs: { diff_ids: string[] };
      };
      assert.deepEqual(copied.rootfs.diff_ids, img.diffIds);

      // The OCI layout: the index byte for byte, every platform copied with its digests.
      const raw = (await runOk('skopeo', ['inspect', '--raw', `oci-archive:${file}`])).stdout;
      assert.equal(sha256(raw), multi.id);
      const allDir = path.join(dir, 'all');
      mkdirSync(allDir);
      await runOk('skopeo', ['copy', '--quiet', '--all', '--preserve-digests', `oci-archive:${file}`, `oci:${allDir}:all`], {
        timeoutMs: 120_000,
      });
      const index = JSON.parse(readFileSync(path.join(allDir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
      assert.equal(index.manifests[0]?.digest, multi.id);
    });
  });

  describe('clients', () => {
    it('dockerode: getImage().history() and getImage().get()', async () => {
      const docker = new Docker({ socketPath: d.socket, timeout: 60_000 });
      const history = (await docker.getImage('lading-single:v1').history()) as HistoryItem[];
      assert.deepEqual(history, (await d.request('/images/lading-single:v1/history')).json<HistoryItem[]>());
      assert.equal(history[0]?.Id, single.id);

      const stream = (await docker.getImage('lading-single:v1').get()) as NodeJS.ReadableStream;
      const parts: Buffer[] = [];
      for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
      const target = await freshDaemon();
      const other = new Docker({ socketPath: target.socket, timeout: 60_000 });
      const loadStream = (await other.loadImage(Buffer.concat(parts) as unknown as NodeJS.ReadableStream)) as NodeJS.ReadableStream;
      let messages = '';
      for await (const chunk of loadStream) messages += chunk.toString();
      assert.match(messages, /Loaded image: lading-single:v1/);
      assertInspect((await other.getImage('lading-single:v1').inspect()) as unknown as Record<string, unknown>, expectImage(single, { apiVersion: MAX_API }));

      await assert.rejects(docker.getImage('nosuch').history(), (err: { statusCode?: number; json?: unknown }) => {
        assert.equal(err.statusCode, 404);
        assert.deepEqual(err.json, { message: 'No such image: nosuch:latest' });
        return true;
      });
    });

    it('docker-py: image.history() and image.save()', async () => {
      const history = await d.pythonJson<HistoryItem[]>('print(json.dumps(client.images.get("lading-multi:v1").history()))');
      assert.deepEqual(history, (await d.request('/images/lading-multi:v1/history')).json<HistoryItem[]>());

      const dir = tempDir('py-save');
      const byId = path.join(dir, 'by-id.tar');
      const byName = path.join(dir, 'by-name.tar');
      const saved = await d.python(
        'img = client.images.get("lading-single:v1")\n' +
          `with open(${JSON.stringify(byId)}, "wb") as f:\n    for chunk in img.save():\n        f.write(chunk)\n` +
          `with open(${JSON.stringify(byName)}, "wb") as f:\n    for chunk in img.save(named=True):\n        f.write(chunk)\n`,
        { timeoutMs: 120_000 },
      );
      assert.equal(saved.code, 0, saved.stderr);
      // image.save() asks by ID: Docker exports the image without a name.
      const idManifest = JSON.parse((await untar(readFileSync(byId))).get('manifest.json')!.toString()) as Array<{ RepoTags: unknown }>;
      assert.deepEqual(idManifest.map((m) => m.RepoTags), [null]);
      const target = await freshDaemon();
      assert.equal((await target.docker(['load', '-i', byId])).stdout.trim(), `Loaded image ID: ${single.id}`);
      assert.equal((await target.docker(['load', '-i', byName])).stdout.trim(), 'Loaded image: lading-single:v1');
      assert.equal((await inspectOn(target, 'lading-single:v1')).Id, single.id);
    });
  });
});
