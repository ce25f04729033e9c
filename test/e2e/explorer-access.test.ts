// The explorer's access rules at start, on a real ladingd: off by default, a token unless turned off,
// never beyond loopback without TLS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { describe, it } from 'node:test';
import { makePki } from '../support/certs.js';
import { Daemon } from '../support/daemon.js';

/** A GET over HTTPS trusting `ca`, with a client certificate when given. */
function httpsGet(url: string, ca: string, client?: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = { ca: readFileSync(ca), ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}) };
    https
      .get(url, options, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

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

  it("with TLS serves HTTPS with the daemon's certificate and client-certificate policy", async () => {
    const pki = await makePki();
    const d = await Daemon.start({ extraArgs: ['--ui', '127.0.0.1:0', '--tlsverify', '--tlscacert', pki.ca.cert, '--tlscert', pki.server.cert, '--tlskey', pki.server.key] });
    try {
      const url = await explorerUrl(d);
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/_lading\/ui\/\?token=[0-9a-f]{48}$/);
      const api = new URL('api/images', url).href;
      assert.equal(await httpsGet(api, pki.ca.cert, pki.client), 401, 'a certificate is not the token');
      assert.equal(await httpsGet(`${api}?token=${new URL(url).searchParams.get('token')}`, pki.ca.cert, pki.client), 302);
      await assert.rejects(httpsGet(api, pki.ca.cert), 'no client certificate: the handshake fails, as on the API');
    } finally {
      await d.stop();
    }
  });

  it('refuses to start on an address beyond loopback without TLS', async () => {
    await assert.rejects(Daemon.start({ extraArgs: ['--ui', '0.0.0.0:0'] }), /refusing to serve the explorer on 0\.0\.0\.0:0 without TLS/);
  });
});
