// The operator's log at `info`: one line per change of the store, refusals without stacks, JSON on request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { ociArchive, singlePlatformImage, type ImageFixture } from '../support/images.js';
import { Registry } from '../support/registry.js';

/** The lines written since `mark` (a length of `d.output()`). */
function since(d: Daemon, mark: number): string[] {
  return d
    .output()
    .slice(mark)
    .split('\n')
    .filter((l) => l.startsWith('time=') || l.startsWith('{'));
}

/** The one line whose msg is `msg`, in text format, as `key=value` pairs. */
function textLine(lines: string[], msg: string): string {
  const found = lines.filter((l) => l.includes(` msg=${JSON.stringify(msg)}`));
  assert.equal(found.length, 1, `one ${JSON.stringify(msg)} line in:\n${lines.join('\n')}`);
  return found[0]!;
}

const DURATION = /duration=\d+(\.\d+)?(ns|µs|ms|s)\b/;

describe('operator log', { timeout: 600_000 }, () => {
  let fx: ImageFixture;
  let archive: string;
  let reg: Registry;

  before(async () => {
    fx = await singlePlatformImage();
    archive = await ociArchive(fx);
    reg = await Registry.start();
  });
  after(async () => {
    await reg?.stop();
  });

  describe('text, at info', () => {
    let d: Daemon;
    before(async () => {
      d = await Daemon.start({ logLevel: 'info' });
    });
    after(async () => {
      await d?.stop();
    });

    it('load, tag, push, rmi, pull, prune: one info line each with names, digests, bytes, duration', async () => {
      let mark = d.output().length;
      ok(await d.docker(['load', '-i', archive], { timeoutMs: 120_000 }), 'load', d);
      const loaded = textLine(since(d, mark), 'Image loaded');
      assert.match(loaded, /level=info /);
      assert.ok(loaded.includes(`images="[${fx.familiar}]"`) || loaded.includes(`images=[${fx.familiar}]`), loaded);
      assert.ok(loaded.includes(fx.id), `target digest in ${loaded}`);
      assert.match(loaded, /bytes=[1-9]\d*/);
      assert.match(loaded, DURATION);

      const pushed = reg.ref('lab/oplog:v1');
      mark = d.output().length;
      ok(await d.docker(['tag', fx.familiar, pushed]), 'tag', d);
      const tagged = textLine(since(d, mark), 'Image tagged');
      assert.ok(tagged.includes(`source=${fx.familiar}`) && tagged.includes(`tag=${pushed}`) && tagged.includes(`digest=${fx.id}`), tagged);

      mark = d.output().length;
      ok(await d.docker(['push', pushed], { timeoutMs: 120_000 }), 'push', d);
      const pushLine = textLine(since(d, mark), 'Image pushed');
      assert.ok(pushLine.includes(`ref=${pushed}`) && pushLine.includes(fx.id), pushLine);
      assert.match(pushLine, /bytes=[1-9]\d*/);
      assert.match(pushLine, DURATION);

      mark = d.output().length;
      ok(await d.docker(['rmi', pushed]), 'rmi', d);
      const removed = textLine(since(d, mark), 'Image removed');
      assert.ok(removed.includes(`untagged="[${pushed}]"`) || removed.includes(`untagged=[${pushed}]`), removed);

      // The pull fetches only what is not here: nothing, as the image is still loaded under its own name.
      ok(await d.docker(['rmi', fx.familiar]), 'rmi the loaded image', d);
      mark = d.output().length;
      ok(await d.docker(['pull', pushed], { timeoutMs: 120_000 }), 'pull', d);
      const pulled = textLine(since(d, mark), 'Image pulled');
      assert.ok(pulled.includes(`ref=${pushed}`) && pulled.includes(fx.id), pulled);
      assert.match(pulled, /bytes=[1-9]\d*/);

      mark = d.output().length;
      ok(await d.docker(['image', 'prune', '-a', '-f']), 'prune', d);
      const pruned = textLine(since(d, mark), 'Images pruned');
      assert.ok(pruned.includes(fx.id), `deleted ${fx.id} in ${pruned}`);
      assert.match(pruned, /bytes=[1-9]\d*/);
    });

    it('a client mistake: one info line, no stack trace; a registry refusing credentials: a warning', async () => {
      let mark = d.output().length;
      const missing = await d.docker(['tag', 'no-such-image:v1', 'other:v1']);
      assert.equal(missing.code, 1);
      const refused = textLine(since(d, mark), 'Tag refused');
      assert.match(refused, /level=info .*error="No such image: no-such-image:v1"/);
      assert.doesNotMatch(d.output().slice(mark), /\n\s+at |\\n\s+at |stack=/, 'no stack trace for a 404');

      const hreg = await Registry.start({ mode: 'htpasswd' });
      try {
        ok(await d.docker(['load', '-i', archive], { timeoutMs: 120_000 }), 'load', d);
        const ref = hreg.ref('lab/secret:v1');
        ok(await d.docker(['tag', fx.familiar, ref]), 'tag', d);
        mark = d.output().length;
        assert.equal((await d.docker(['push', ref])).code, 1);
        const warned = textLine(since(d, mark), 'Registry refused the push: authentication failed');
        assert.match(warned, /level=warning /);
        assert.ok(warned.includes(`ref=${ref}`) && warned.includes('no basic auth credentials'), warned);
        assert.doesNotMatch(d.output().slice(mark), /stack=/, 'no stack trace for a refusal');
      } finally {
        await hreg.stop();
      }
    });
  });

  it('--log-format json: logrus JSON lines, fields beside level, msg and time', async () => {
    const d = await Daemon.start({ logLevel: 'info', extraArgs: ['--log-format', 'json'] });
    try {
      const mark = d.output().length;
      ok(await d.docker(['load', '-i', archive], { timeoutMs: 120_000 }), 'load', d);
      const lines = since(d, mark).map((l) => JSON.parse(l) as Record<string, unknown>);
      const loaded = lines.filter((l) => l.msg === 'Image loaded');
      assert.equal(loaded.length, 1, JSON.stringify(lines));
      const line = loaded[0]!;
      assert.equal(line.level, 'info');
      assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.deepEqual(line.images, [fx.familiar]);
      assert.deepEqual(line.digests, [fx.id]);
      assert.equal(typeof line.bytes, 'number');
      assert.match(String(line.duration), /^\d+(\.\d+)?(ns|µs|ms|s)$/);
      // Every line the daemon wrote is JSON, the start-up lines too.
      for (const l of d.output().trim().split('\n').filter((x) => !x.startsWith('export DOCKER_HOST='))) JSON.parse(l);
    } finally {
      await d.stop();
    }
  });
});
