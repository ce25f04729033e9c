// A data root on a full disk (a 16 MiB tmpfs filled with a file): `docker rmi` still frees space, a tag
// or load that needs space fails with a message saying the disk is full, and the daemon keeps serving.
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lines, ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { run, runOk } from '../support/exec.js';
import { multiPlatformImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';

const NOT_ROOT = process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : false;
const FULL = "the data root's disk is full";

/** Writes `file` until the disk refuses another byte: large writes, then small ones for the last blocks. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'a');
  try {
    for (const size of [64 * 1024, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function freeBytes(dir: string): number {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
}

describe('a full data root', { skip: NOT_ROOT, timeout: 300_000 }, () => {
  let mountPoint: string;
  let mounted = false;
  let d: Daemon | undefined;
  let single: ImageFixture;
  let multi: ImageFixture;
  let singleArchive: string;
  let fill: string;

  before(async () => {
    [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    singleArchive = await ociArchive(single);
    mountPoint = path.join(tempDir('full-disk'), 'data');
    mkdirSync(mountPoint);
    await runOk('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint]);
    mounted = true;
    fill = path.join(mountPoint, 'fill');
    d = await Daemon.start({ dataRoot: mountPoint });
    ok(await d.docker(['load', '-i', singleArchive]), 'docker load single', d);
    ok(await d.docker(['load', '-i', await ociArchive(multi)]), 'docker load multi', d);
    fillDisk(fill);
  });

  after(async () => {
    try {
      rmSync(fill, { force: true });
      await d?.stop();
    } finally {
      if (mounted) await run('umount', [mountPoint]);
    }
  });

  it('refuses docker tag and docker load with a message saying the disk is full, and keeps serving', async () => {
    const daemon = d!;
    assert.equal(freeBytes(mountPoint), 0);
    const tag = await daemon.docker(['tag', multi.familiar, 'lading-full:v1']);
    assert.equal(tag.code, 1, tag.stdout);
    assert.match(tag.stderr, new RegExp(`^Error response from daemon: ${FULL}: write .*metadata\\.db: no space left on device; free space`));
    const load = await daemon.docker(['load', '-i', singleArchive]);
    assert.equal(load.code, 1, load.stdout);
    assert.match(load.stderr, new RegExp(`Error response from daemon: ${FULL}: write ${mountPoint}/content/ingest/[0-9a-f]+: no space left on device`));
    // The API's answer: a 500 (a system error, as Docker's) with Docker's {"message"} body.
    const res = await daemon.request(`/v1.47/images/${multi.familiar}/tag?repo=lading-full&tag=v2`, { method: 'POST' });
    assert.equal(res.status, 500);
    assert.match(res.json<{ message: string }>().message, new RegExp(`^${FULL}`));
    // Reads still answer, the list included (it stores what it computes, when it can).
    const images = ok(await daemon.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'docker images', daemon);
    assert.deepEqual(lines(images.stdout).sort(), [multi.familiar, single.familiar]);
  });

  it('removes an image on the full disk, freeing its blobs', async () => {
    const daemon = d!;
    const rmi = ok(await daemon.docker(['rmi', single.familiar]), 'docker rmi on a full disk', daemon);
    assert.equal(lines(rmi.stdout)[0], `Untagged: ${single.familiar}`);
    assert.ok(lines(rmi.stdout).includes(`Deleted: ${single.id}`), rmi.stdout);
    assert.ok(freeBytes(mountPoint) > 512 * 1024, `free after rmi: ${freeBytes(mountPoint)}`);
    const images = ok(await daemon.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'docker images', daemon);
    assert.deepEqual(lines(images.stdout), [multi.familiar]);
  });

  it('tags and loads again once space is freed, and can remove on the next full disk too', async () => {
    const daemon = d!;
    rmSync(fill);
    ok(await daemon.docker(['tag', multi.familiar, 'lading-full:v1']), 'docker tag after freeing space', daemon);
    ok(await daemon.docker(['load', '-i', singleArchive]), 'docker load after freeing space', daemon);
    // Full again: the space held back for removals was taken back when the disk had room.
    fillDisk(fill);
    ok(await daemon.docker(['rmi', single.familiar]), 'docker rmi on the disk full again', daemon);
    ok(await daemon.docker(['rmi', 'lading-full:v1']), 'docker rmi of a second name on the full disk', daemon);
    rmSync(fill);
  });
});
