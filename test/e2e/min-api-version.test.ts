// DOCKER_MIN_API_VERSION (issue 15, item 1): lowered to 1.22, Debian's skopeo (containers/image,
// API 1.22) copies an image out through its docker-daemon: transport, byte for byte; without it,
// Docker 28's refusal; an invalid value refuses the start in dockerd's words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { run, runOk } from '../support/exec.js';
import { repoRoot, tempDir } from '../support/paths.js';

const REFUSAL = 'client version 1.22 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version';

interface Manifest {
  config: { digest: string };
  layers: Array<{ digest: string }>;
}

describe('DOCKER_MIN_API_VERSION', { timeout: 300_000 }, () => {
  let lowered: Daemon;
  let standard: Daemon;
  let dir: string;

  before(async () => {
    dir = tempDir('minapi');
    lowered = await Daemon.start({ env: { DOCKER_MIN_API_VERSION: '1.22' } });
    standard = await Daemon.start();
    const archive = path.join(dir, 'bb.tar');
    await runOk('sh', ['-c', `sh "${path.join(repoRoot, 'scripts', 'busybox-image.sh')}" bb:1 > "${archive}"`]);
    for (const d of [lowered, standard]) ok(await d.docker(['load', '-i', archive]), 'docker load', d);
  });
  after(async () => {
    await lowered?.stop();
    await standard?.stop();
  });

  it('lowered to 1.22, skopeo copies the image out through docker-daemon:, config and layers as stored', async () => {
    const version = await lowered.request('/v1.22/version');
    assert.equal(version.status, 200);
    assert.equal((JSON.parse(version.text) as { MinAPIVersion: string }).MinAPIVersion, '1.22');

    // dir: keeps the config's bytes (oci: would convert the config to the OCI format, a new digest).
    const out = path.join(dir, 'copied');
    const copied = await run('skopeo', ['copy', '--src-daemon-host', `unix://${lowered.socket}`, 'docker-daemon:bb:1', `dir:${out}`], { timeoutMs: 120_000 });
    assert.equal(copied.code, 0, copied.stderr + lowered.logs());
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;

    // What Lading says the image is: its manifest's config, and the config's diff IDs.
    const saved = path.join(dir, 'saved.tar');
    ok(await lowered.docker(['save', '-o', saved, 'bb:1']), 'docker save', lowered);
    const stored = JSON.parse((await runOk('skopeo', ['inspect', '--raw', `docker-archive:${saved}`])).stdout) as Manifest;
    const config = JSON.parse((await runOk('skopeo', ['inspect', '--config', '--raw', `docker-archive:${saved}`])).stdout) as { rootfs: { diff_ids: string[] } };
    assert.equal(manifest.config.digest, stored.config.digest, 'the config digest matches');
    assert.deepEqual(manifest.layers.map((l) => l.digest), config.rootfs.diff_ids, 'each layer is the stored layer, uncompressed');
  });

  it('without it, skopeo is refused as Docker 28 refuses API 1.22', async () => {
    const copied = await run('skopeo', ['copy', '--src-daemon-host', `unix://${standard.socket}`, 'docker-daemon:bb:1', `oci:${path.join(dir, 'refused')}`], { timeoutMs: 120_000 });
    assert.notEqual(copied.code, 0);
    assert.ok(copied.stderr.includes(REFUSAL), copied.stderr);
    const res = await standard.request('/v1.22/version');
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.text) as { message: string }).message, REFUSAL);
  });

  it('an invalid value refuses the start in dockerd\'s words', async () => {
    for (const [value, why] of [
      ['1.11', 'minimum supported API version is 1.12: 1.11'],
      ['v1.30', 'API version must be provided without "v" prefix'],
      ['9.99', 'maximum supported API version is'],
    ] as const) {
      const root = tempDir('minapi-refused');
      const res = await run(process.execPath, [path.join(repoRoot, 'bin', 'ladingd.js'), '-H', `unix://${root}/s.sock`, '--data-root', `${root}/data`], {
        env: { ...process.env, DOCKER_MIN_API_VERSION: value },
        timeoutMs: 30_000,
      });
      assert.notEqual(res.code, 0, value);
      assert.ok(res.stderr.includes(`invalid DOCKER_MIN_API_VERSION: ${why}`), res.stderr);
    }
  });
});
