// The explorer's access rules at start, on a real ladingd: off by default, a token unless turned off,
// never beyond loopback without TLS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Daemon } from '../support/daemon.js';

async function explorerUrl(d: Daemon): Promise<string> {
  const deadline = Date.now() + 10_000;
  let m: RegExpExecArray | null = null;
  while (!(m = /Lading explorer: open (\S+)/.exec(d.output())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(m, `no explorer URL printed\n${d.logs()}`);
  return m[1]!;
}

describe('ladingd --ui', { timeout: 60_000 }, () => {
  it('is off by default', async () => {
    const d = await Daemon.start();
    try {
      assert.doesNotMatch(d.output(), /explorer/i);
    } finally {
      await d.stop();
    }
  });

  it('with --ui-token=false answers without a token, and says so in the log', async () => {
    const d = await Daemon.start({ extraArgs: ['--ui', '127.0.0.1:0', '--ui-token=false'] });
    try {
      const url = await explorerUrl(d);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/_lading\/ui\/$/);
      const res = await fetch(new URL('api/images', url));
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { total: number }).total, 0);
      assert.match(d.output(), /has no access token \(--ui-token=false\): any local user can read the image store/);
    } finally {
      await d.stop();
    }
  });

  it('refuses to start on an address beyond loopback without TLS', async () => {
    await assert.rejects(Daemon.start({ extraArgs: ['--ui', '0.0.0.0:0'] }), /refusing to serve the explorer on 0\.0\.0\.0:0 without TLS/);
  });
});
