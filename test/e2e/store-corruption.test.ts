// A stored blob whose bytes changed on disk (one byte flipped): `docker save` is cut, `docker push` fails
// in its stream and sends nothing whole, an inspect that reads a corrupt config fails with a 500, and
// each time the daemon logs at error the blob, the images that use it and `ladingd check --repair`.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { hex, multiPlatformImage, ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { tempDir } from '../support/paths.js';
import { Registry } from '../support/registry.js';

/** Flips one byte in the middle of a stored blob, as a failing disk would. */
function flipByte(d: Daemon, digest: string): void {
  const file = path.join(d.dataRoot, 'content', 'blobs', 'sha256', hex(digest));
  const bytes = readFileSync(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0xff;
  chmodSync(file, 0o644);
  writeFileSync(file, bytes);
}

/** The daemon's log lines that report `digest` as corrupt. */
function corruptionLines(d: Daemon, digest: string): string[] {
  return d
    .logs(256 * 1024)
    .split('\n')
    .filter((l) => l.includes(`store corruption: blob ${digest} does not match its digest`));
}

describe('a corrupt blob in the store', { timeout: 300_000 }, () => {
  let reg: Registry;
  let d: Daemon;
  let single: ImageFixture;
  let multi: ImageFixture;

  before(async () => {
    [single, multi] = await Promise.all([singlePlatformImage(), multiPlatformImage()]);
    reg = await Registry.start();
    d = await Daemon.start();
    ok(await d.docker(['load', '-i', await ociArchive(single)]), 'docker load single', d);
    ok(await d.docker(['load', '-i', await ociArchive(multi)]), 'docker load multi', d);
    ok(await d.docker(['tag', single.familiar, 'lading-copy:v1']), 'docker tag', d);
  });
  after(async () => {
    try {
      await d?.stop();
    } finally {
      await reg?.stop();
    }
  });

  it('cuts docker save and logs an error naming the blob, its images and ladingd check --repair', async () => {
    const layer = single.images[0]!.layers[0]!.digest;
    flipByte(d, layer);
    const save = await d.docker(['save', '-o', path.join(tempDir('corrupt'), 'single.tar'), single.familiar]);
    assert.equal(save.code, 1, 'docker save fails rather than keep a truncated archive');
    const logged = corruptionLines(d, layer);
    assert.equal(logged.length, 1, d.logs());
    assert.match(logged[0]!, /level=error /);
    assert.match(logged[0]!, /used by lading-copy:v1, lading-single:v1\. Stop the daemon and run `ladingd check --repair`/);
    assert.doesNotMatch(d.logs(), /client went away/);
    assert.equal((await d.request('/_ping')).text, 'OK');
  });

  it('fails docker push with the corruption in its stream; nothing reaches the registry', async () => {
    const layer = single.images[0]!.layers[0]!.digest;
    const ref = reg.ref('corrupt:v1');
    ok(await d.docker(['tag', single.familiar, ref]), 'docker tag', d);
    const push = await d.docker(['push', ref]);
    assert.equal(push.code, 1, push.stdout);
    assert.match(push.stderr, new RegExp(`content ${layer} is corrupt in the store \\(its bytes hash to sha256:[0-9a-f]{64}\\): run \`ladingd check --repair\``));
    await assert.rejects(reg.inspectDigest('corrupt:v1'), 'no manifest was pushed');
    const logged = corruptionLines(d, layer);
    assert.equal(logged.length, 2, d.logs());
    assert.match(logged[1]!, /level=error /);
    assert.ok(logged[1]!.includes(`used by ${reg.host}/corrupt:v1, lading-copy:v1, lading-single:v1.`), logged[1]);
  });

  it('fails an inspect that reads a corrupt config with a 500, logged the same way', async () => {
    // A new daemon on the same data root: no parsed config is cached yet.
    await d.stop();
    d = await Daemon.start({ dataRoot: d.dataRoot });
    const config = multi.images[0]!.config.digest;
    flipByte(d, config);
    const res = await d.request(`/v1.47/images/${multi.familiar}/json`);
    assert.equal(res.status, 500, res.text);
    assert.match(res.json<{ message: string }>().message, new RegExp(`^content ${config} is corrupt in the store`));
    const logged = corruptionLines(d, config);
    assert.equal(logged.length, 1, d.logs());
    assert.match(logged[0]!, /level=error .*used by lading-multi:v1\. Stop the daemon and run `ladingd check --repair`/);
  });
});
