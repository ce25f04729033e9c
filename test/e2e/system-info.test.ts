// `docker info` and `docker version` as the CLI prints them: images counted as Docker counts them, and
// the build's commit and time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { run, runOk } from '../support/exec.js';
import { layoutTar, multiPlatformImage, noCreatedImage, ociArchive, singlePlatformImage } from '../support/images.js';
import { repoRoot, tempDir } from '../support/paths.js';

const WRITE_BUILD_INFO = path.join(repoRoot, 'scripts', 'write-build-info.js');

describe('docker info and docker version', { timeout: 300_000 }, () => {
  let d: Daemon;

  before(async () => {
    d = await Daemon.start();
  });
  after(async () => {
    await d?.stop();
  });

  it('docker info counts images, not their names (3 images under 7 names)', async () => {
    const [single, multi, nocreated] = await Promise.all([singlePlatformImage(), multiPlatformImage(), noCreatedImage()]);
    for (const file of [await ociArchive(single), await ociArchive(multi), await layoutTar(nocreated)]) {
      ok(await d.docker(['load', '-i', file], { timeoutMs: 120_000 }), `docker load ${file}`, d);
    }
    const names: Array<[string, string]> = [
      [single.id, 'lab/a:1'],
      [single.id, 'lab/b:1'],
      [multi.id, 'lab/c:1'],
      [nocreated.id, 'lab/d:1'],
    ];
    for (const [id, name] of names) ok(await d.docker(['tag', id, name]), `docker tag ${name}`, d);
    const listed = ok(await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'docker images', d).stdout.trim().split('\n');
    assert.ok(listed.length >= 6, `names: ${listed.join(', ')}`);
    const info = ok(await d.docker(['info', '--format', '{{.Images}}']), 'docker info', d);
    assert.equal(info.stdout.trim(), '3');
    assert.match(ok(await d.docker(['info']), 'docker info', d).stdout, /^ Images: 3$/m);
  });

  it('docker version shows the commit and time of the build', async () => {
    const build = JSON.parse(readFileSync(path.join(repoRoot, 'dist', 'build-info.json'), 'utf8')) as { gitCommit?: string; buildTime: string };
    const head = (await runOk('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })).stdout.trim();
    assert.match(build.gitCommit ?? '', new RegExp(`^${head}(-dirty)?$`), 'the build recorded the checkout it was built from');

    const format = ok(await d.docker(['version', '--format', '{{.Server.GitCommit}} {{.Server.BuildTime}}']), 'docker version', d);
    assert.equal(format.stdout.trim(), `${build.gitCommit} ${build.buildTime}`);
    const plain = ok(await d.docker(['version']), 'docker version', d).stdout;
    const server = plain.slice(plain.indexOf('Server:'));
    assert.match(server, new RegExp(`^  Git commit:\\s+${build.gitCommit}$`, 'm'));
    // The CLI prints Go's ANSIC form of an RFC 3339 time, and the raw text when it cannot parse it.
    assert.match(server, /^  Built:\s+(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/m);

    const version = await runOk(process.execPath, [path.join(repoRoot, 'bin', 'ladingd.js'), '--version']);
    assert.match(version.stdout, new RegExp(`^ladingd version [0-9.]+, build ${build.gitCommit}\n$`));
  });

  it('the build info step works without git: the build time alone', async () => {
    const out = path.join(tempDir('build-info'), 'build-info.json');
    const res = await run(process.execPath, [WRITE_BUILD_INFO, out], { env: { PATH: '/nonexistent', SOURCE_DATE_EPOCH: '1767225600' } });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { buildTime: '2026-01-01T00:00:00.000Z' });
  });
});
