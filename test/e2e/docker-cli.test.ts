// The real docker CLI against ladingd: what a user types and reads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Daemon, DOCKER } from '../support/daemon.js';
import type { RunResult } from '../support/exec.js';
import { assertInspect, expectDockerArchive, expectImage, MAX_API, MIN_API } from '../support/expect.js';
import {
  dockerArchive,
  dockerArchiveManifest,
  garbageFile,
  hex,
  layoutTar,
  multiPlatformImage,
  noCreatedImage,
  ociArchive,
  singlePlatformImage,
  truncatedCopy,
  type ImageFixture,
} from '../support/images.js';

// docker CLI 28.2 speaks at most API 1.50 and negotiates down to it.
const CLI_API = '1.50';

describe('docker CLI', { timeout: 300_000 }, () => {
  let d: Daemon;
  let single: ImageFixture;
  let multi: ImageFixture;

  before(async () => {
    [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    d = await Daemon.start();
    const client = await d.docker(['version', '--format', '{{.Client.Version}}']);
    assert.ok(
      Number(client.stdout.split('.')[0]) >= 28,
      `these tests need docker CLI >= 28 (set LADING_TEST_DOCKER); ${DOCKER} is ${client.stdout.trim() || client.stderr}`,
    );
  });
  after(async () => {
    await d?.stop();
  });

  function ok(res: RunResult, what: string): RunResult {
    assert.equal(res.code, 0, `${what} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}\n${d.logs()}`);
    return res;
  }

  async function load(file: string): Promise<string> {
    return ok(await d.docker(['load', '-i', file], { timeoutMs: 120_000 }), `docker load -i ${file}`).stdout.trim();
  }

  async function inspect(...args: string[]): Promise<{ doc: Record<string, unknown>; raw: string }> {
    const res = ok(await d.docker(['image', 'inspect', ...args]), `docker image inspect ${args.join(' ')}`);
    const docs = JSON.parse(res.stdout) as Array<Record<string, unknown>>;
    assert.equal(docs.length, 1);
    const [doc] = docs;
    assert.ok(doc);
    return { doc, raw: res.stdout };
  }

  it('docker version reports server API 1.51', async () => {
    const res = ok(await d.docker(['version', '--format', '{{json .Server}}']), 'docker version');
    const server = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.equal(server.ApiVersion, MAX_API);
    assert.equal(server.MinAPIVersion, MIN_API);
    assert.equal(server.Os, 'linux');
    const plain = ok(await d.docker(['version']), 'docker version');
    assert.match(plain.stdout, /^Server:/m);
    assert.match(plain.stdout, new RegExp(`API version:\\s+${MAX_API.replace('.', '\\.')} \\(minimum version ${MIN_API.replace('.', '\\.')}\\)`));
  });

  it('docker load -i of a skopeo docker-archive', async () => {
    const file = await dockerArchive(single, { name: 'lading-single:darchive' });
    assert.equal(await load(file), 'Loaded image: lading-single:darchive');
    const synth = await dockerArchiveManifest(file);
    const { doc } = await inspect('lading-single:darchive');
    const [img] = single.images;
    assert.ok(img);
    assertInspect(doc, expectDockerArchive(img, synth, { apiVersion: CLI_API, repoTags: ['lading-single:darchive'] }));
  });

  it('docker load -i of a skopeo oci-archive, single platform', async () => {
    assert.equal(await load(await ociArchive(single)), 'Loaded image: lading-single:v1');
  });

  it('docker load -i of a skopeo oci-archive, multi-platform', async () => {
    assert.equal(await load(await ociArchive(multi)), 'Loaded image: lading-multi:v1');
  });

  it('docker load -i of a plain OCI layout tar, image without created', async () => {
    const fx = await noCreatedImage();
    assert.equal(await load(await layoutTar(fx)), 'Loaded image: lading-nocreated:v1');
    const { doc } = await inspect(fx.familiar);
    assert.ok(!('Created' in doc), 'no Created key from API 1.44 on');
    assertInspect(doc, expectImage(fx, { apiVersion: CLI_API }));
  });

  it('inspect by tag: the document, its key order and raw bytes', async () => {
    const { doc, raw } = await inspect('lading-single:v1');
    assertInspect(doc, expectImage(single, { apiVersion: CLI_API }));
    assert.equal(doc.Id, single.id);
    assert.equal(doc.Created, '2025-05-30T16:20:41.123Z');
    assert.equal(Object.keys(doc).at(-1), 'Config');
    const config = doc.Config as Record<string, unknown>;
    assert.deepEqual(config.Cmd, ['/bin/sh']);
    assert.deepEqual(config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LADING_MARKER=single']);
    assert.equal((config.Labels as Record<string, string>)['com.example.html'], '<b>&</b>');
    // The CLI indents the daemon's bytes, keys in the daemon's order. Docker 28 re-marshals the
    // inspect document with json.Marshal (inspectCompatResponse.MarshalJSON), so <, > and & come out
    // escaped even though its encoder is set not to escape HTML.
    assert.match(raw, /^\[\n {4}\{\n {8}"Id": "sha256:[0-9a-f]{64}",\n/);
    assert.ok(raw.includes('"com.example.html": "\\u003cb\\u003e\\u0026\\u003c/b\\u003e"'), 'labels are HTML-escaped as Go escapes them');
    assert.match(raw, /\n {8}"Config": \{[^]*\n {8}\}\n {4}\}\n\]\n$/);
  });

  it('inspect by full ID, bare hex, short ID and name@digest', async () => {
    const forms = [
      single.id,
      hex(single.id),
      hex(single.id).slice(0, 12),
      `sha256:${hex(single.id).slice(0, 12)}`,
      `lading-single@${single.id}`,
      `docker.io/library/lading-single@${single.id}`,
    ];
    for (const form of forms) {
      const { doc } = await inspect(form);
      assert.equal(doc.Id, single.id, form);
      assert.deepEqual(doc.RepoTags, ['lading-single:v1'], form);
    }
  });

  it('the config digest is not an image ID', async () => {
    const [img] = single.images;
    assert.ok(img);
    const res = await d.docker(['image', 'inspect', img.config.digest]);
    assert.equal(res.code, 1);
    assert.equal(res.stderr.trim(), `Error response from daemon: No such image: ${img.config.digest}`);
  });

  it('multi-platform: the host platform by default, --platform selects a manifest', async () => {
    const { doc } = await inspect('lading-multi:v1');
    assertInspect(doc, expectImage(multi, { apiVersion: CLI_API }));
    assert.equal(doc.Id, multi.id);
    assert.deepEqual(doc.RepoDigests, [`lading-multi@${multi.id}`]);

    const arm = await inspect('--platform', 'linux/arm64', 'lading-multi:v1');
    const armExp = expectImage(multi, { apiVersion: CLI_API, platform: { os: 'linux', architecture: 'arm64' } });
    assertInspect(arm.doc, armExp);
    assert.equal(arm.doc.Id, multi.images[1]?.manifest.digest);
    assert.equal(arm.doc.Architecture, 'arm64');
    assert.equal(arm.doc.Variant, 'v8');
    assert.equal(arm.doc.Created, '2026-01-01T00:00:00.5Z');

    const amd = await inspect('--platform', 'linux/amd64', 'lading-multi:v1');
    assert.equal(amd.doc.Id, multi.images[0]?.manifest.digest);
    assert.ok(!('Variant' in amd.doc));
  });

  it('multi-platform: by index digest and by name@digest', async () => {
    for (const form of [multi.id, `lading-multi@${multi.id}`, hex(multi.id).slice(0, 16)]) {
      const { doc } = await inspect(form);
      assert.equal(doc.Id, multi.id, form);
    }
  });

  it('a platform the image lacks: 404 with the platform named', async () => {
    const res = await d.docker(['image', 'inspect', '--platform', 'linux/s390x', 'lading-multi:v1']);
    assert.equal(res.code, 1);
    assert.equal(
      res.stderr.trim(),
      'Error response from daemon: image with reference lading-multi:v1 was found but does not provide the specified platform (linux/s390x)',
    );
  });

  it('missing image: [] on stdout, the daemon error on stderr, exit 1', async () => {
    const res = await d.docker(['image', 'inspect', 'nosuch']);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '[]\n');
    assert.equal(res.stderr, 'Error response from daemon: No such image: nosuch:latest\n');
  });

  it('docker load of garbage fails clearly and the daemon carries on', async () => {
    await assertLoadFails(garbageFile());
  });

  it('docker load of a truncated archive fails clearly and the daemon carries on', async () => {
    await assertLoadFails(truncatedCopy(await ociArchive(multi), 0.6));
  });

  async function assertLoadFails(file: string): Promise<void> {
    const res = await d.docker(['load', '-i', file], { timeoutMs: 60_000 });
    assert.equal(res.code, 1, `docker load of a bad archive should fail\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    assert.doesNotMatch(res.stdout, /Loaded image/);
    const message = res.stderr.trim();
    assert.ok(message.length > 0 && message.length < 500, `one short message, got: ${JSON.stringify(message)}`);
    assert.doesNotMatch(message, /\n\s+at /, 'no stack trace');
    const ping = await d.request('/_ping', { timeoutMs: 5_000 });
    assert.equal(ping.text, 'OK');
    const { doc } = await inspect('lading-single:v1');
    assert.equal(doc.Id, single.id);
  }
});
