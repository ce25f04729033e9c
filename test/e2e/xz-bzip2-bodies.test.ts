// docker load and docker import of xz and bzip2 bodies, which Docker decompresses too (go-archive's
// DecompressStream: Go's bzip2 reader, the `xz` command): the same image as from the plain tar; a
// corrupt body is a 400 that says so, and nothing is kept.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { runOk } from '../support/exec.js';
import { BUSYBOX, dockerArchive, singlePlatformImage } from '../support/images.js';
import { tempDir } from '../support/paths.js';

const COMPRESSORS = [
  { name: 'xz', command: 'xz' },
  { name: 'bzip2', command: 'bzip2' },
] as const;

describe('xz and bzip2 bodies', { timeout: 300_000 }, () => {
  let d: Daemon;
  let dir: string;
  let archive: string;
  let rootfsTar: string;

  before(async () => {
    d = await Daemon.start();
    dir = tempDir('xz-bzip2');
    archive = await dockerArchive(await singlePlatformImage(), { name: 'compressed-body:v1' });
    const root = path.join(dir, 'rootfs');
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync(BUSYBOX, path.join(root, 'bin', 'busybox'));
    rootfsTar = path.join(dir, 'rootfs.tar');
    await runOk('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', rootfsTar, 'bin']);
  });
  after(async () => {
    await d?.stop();
  });

  async function compressed(file: string, command: string): Promise<Buffer> {
    const out = `${file}.${command}`;
    await runOk('sh', ['-c', `${command} -c "$1" > "$2"`, 'sh', file, out]);
    return readFileSync(out);
  }

  const inspectId = async (ref: string): Promise<string> =>
    ok(await d.docker(['image', 'inspect', '--format', '{{.Id}}', ref]), `inspect ${ref}`, d).stdout.trim();

  it('docker load of a compressed archive gives the image the plain archive gives', async () => {
    ok(await d.docker(['load', '-i', archive]), 'load plain', d);
    const plainId = await inspectId('compressed-body:v1');
    ok(await d.docker(['rmi', 'compressed-body:v1']), 'rmi', d);
    for (const { name, command } of COMPRESSORS) {
      const file = path.join(dir, `archive.tar.${name}`);
      writeFileSync(file, await compressed(archive, command));
      const res = ok(await d.docker(['load', '-i', file]), `load ${name}`, d);
      assert.equal(res.stdout.trim(), 'Loaded image: compressed-body:v1');
      assert.equal(await inspectId('compressed-body:v1'), plainId, name);
      ok(await d.docker(['rmi', 'compressed-body:v1']), 'rmi', d);
    }
  });

  it('docker import of a compressed rootfs stores it gzipped, its diff ID the plain tar', async () => {
    const tarDigest = `sha256:${(await runOk('sha256sum', [rootfsTar])).stdout.split(' ')[0]}`;
    for (const { name, command } of COMPRESSORS) {
      const file = path.join(dir, `rootfs.tar.${name}`);
      writeFileSync(file, await compressed(rootfsTar, command));
      ok(await d.docker(['import', file, `imported-${name}:1`]), `import ${name}`, d);
      const layers = ok(await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', `imported-${name}:1`]), 'inspect', d);
      assert.deepEqual(JSON.parse(layers.stdout), [tarDigest], name);
      const saved = path.join(dir, `saved-${name}.tar`);
      ok(await d.docker(['save', '-o', saved, `imported-${name}:1`]), 'save', d);
      const manifest = JSON.parse(
        (await runOk('skopeo', ['inspect', '--raw', `docker-archive:${saved}`])).stdout,
      ) as { layers: Array<{ mediaType: string }> };
      assert.match(manifest.layers[0]?.mediaType ?? '', /gzip/, 'stored gzipped, as Docker does');
    }
  });

  it('a corrupt body is a 400 naming the format, and nothing is kept', async () => {
    const before = ok(await d.docker(['images', '-q', '--no-trunc']), 'images', d).stdout;
    for (const { name, command } of COMPRESSORS) {
      const body = await compressed(rootfsTar, command);
      // The stream's header stays, so the format is told; what follows is garbage.
      const bad = Buffer.concat([body.subarray(0, 16), Buffer.alloc(4096, 0x5a)]);
      const load = await d.request('/v1.51/images/load', { method: 'POST', body: bad });
      assert.equal(load.status, 400, load.text);
      assert.match((JSON.parse(load.text) as { message: string }).message, new RegExp(`${name}`), load.text);
      const imp = await d.request('/v1.51/images/create?fromSrc=-&repo=broken', { method: 'POST', body: bad });
      assert.equal(imp.status, 400, imp.text);
      assert.match((JSON.parse(imp.text) as { message: string }).message, new RegExp(`failed to decompress ${name} archive`), imp.text);
    }
    assert.equal(ok(await d.docker(['images', '-q', '--no-trunc']), 'images', d).stdout, before);
    assert.deepEqual(readdirSync(path.join(d.dataRoot, 'content', 'ingest')), []);
    assert.ok(readFileSync(rootfsTar).length > 0);
  });
});
