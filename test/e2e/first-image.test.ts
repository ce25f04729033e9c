// The README's first steps: an image made from the machine's busybox with scripts/busybox-image.sh,
// loaded and used with the docker CLI alone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Daemon } from '../support/daemon.js';
import { run } from '../support/exec.js';
import { BUSYBOX } from '../support/images.js';
import { repoRoot, tempDir } from '../support/paths.js';

const SCRIPT = path.join(repoRoot, 'scripts', 'busybox-image.sh');

describe('a first image from busybox-static', { timeout: 120_000 }, () => {
  let d: Daemon;

  before(async () => {
    d = await Daemon.start();
  });
  after(async () => {
    await d?.stop();
  });

  it('scripts/busybox-image.sh | docker load gives a busybox image', { skip: !existsSync(BUSYBOX) && `${BUSYBOX} is absent (apt-get install busybox-static)` }, async () => {
    const dir = tempDir('first-image');
    const make = (file: string) => run('sh', ['-c', `"$0" first/busybox:1 > "$1"`, SCRIPT, path.join(dir, file)], { timeoutMs: 30_000 });
    assert.equal((await make('a.tar')).code, 0);
    assert.equal((await make('b.tar')).code, 0);
    assert.ok(readFileSync(path.join(dir, 'a.tar')).equals(readFileSync(path.join(dir, 'b.tar'))), 'the archive is reproducible');

    const loaded = await d.docker(['load'], { input: readFileSync(path.join(dir, 'a.tar')) });
    assert.equal(loaded.code, 0, loaded.stderr + d.logs());
    assert.equal(loaded.stdout.trim(), 'Loaded image: first/busybox:1');

    const images = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.match(images.stdout, /^first\/busybox:1$/m);
    const inspect = await d.docker(['image', 'inspect', 'first/busybox:1', '--format', '{{.Os}} {{json .Config.Cmd}} {{len .RootFS.Layers}}']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(inspect.stdout.trim(), 'linux ["/bin/sh"] 1');
  });

  it('refuses a busybox that is not one, saying what to install', async () => {
    const res = await run(SCRIPT, [], { env: { ...process.env, BUSYBOX: '/bin/true' } });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /busybox-static/);
  });
});
