// Who may talk to ladingd: the unix socket's mode and group, TCP only on loopback without TLS (and
// loudly), HTTPS with client certificates checked against the CA, driven by the real docker CLI.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lookupGroupId } from '../../src/daemon/socket-group.js';
import { freePort, makePki, type TestPki } from '../support/certs.js';
import { ok } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { run, type RunResult } from '../support/exec.js';
import { dockerArchive, singlePlatformImage } from '../support/images.js';
import { repoRoot, tempDir } from '../support/paths.js';

const LADINGD = path.join(repoRoot, 'bin', 'ladingd.js');

/** Runs ladingd expecting it to refuse to start. */
async function refusedStart(args: string[]): Promise<RunResult> {
  const dir = tempDir('refused');
  const res = await run(
    process.execPath,
    [LADINGD, '-H', `unix://${path.join(dir, 's.sock')}`, '--data-root', path.join(dir, 'data'), ...args],
    { timeoutMs: 20_000 },
  );
  assert.notEqual(res.code, 0, `ladingd ${args.join(' ')} should not start\n${res.stderr}`);
  return res;
}

describe('the unix socket', () => {
  it('is 0660 and belongs to the docker group when there is one (and the daemon may give it), else to the daemon’s group', async () => {
    const d = await Daemon.start();
    try {
      const st = statSync(d.socket);
      assert.equal(st.mode & 0o777, 0o660);
      // Only root, or a member of the group, may give a file to a group: others keep theirs, with a warning.
      const docker = lookupGroupId('docker');
      const mayGive = docker !== undefined && (process.getuid?.() === 0 || (process.getgroups?.() ?? []).includes(docker));
      assert.equal(st.gid, mayGive ? docker : process.getgid?.());
      if (docker !== undefined && !mayGive) assert.match(d.output(), /level=warning msg="could not change group of .* to \d+: EPERM/);
    } finally {
      await d.stop();
    }
  });

  it('--group names its group; a group that does not exist stops the start', async () => {
    const root = process.getuid?.() === 0;
    // Root may give the socket any group; others only one of their own.
    const group = root && lookupGroupId('daemon') !== undefined ? 'daemon' : String(process.getgid?.() ?? 0);
    const d = await Daemon.start({ extraArgs: ['--group', group] });
    try {
      const st = statSync(d.socket);
      assert.equal(st.mode & 0o777, 0o660);
      assert.equal(st.gid, lookupGroupId(group));
    } finally {
      await d.stop();
    }
    const refused = await refusedStart(['-G', 'lading-no-such-group']);
    assert.match(refused.stderr, /group lading-no-such-group not found/);
  });
});

describe('TCP without TLS', () => {
  it('listens on loopback only, with a loud warning', async () => {
    const port = await freePort();
    const d = await Daemon.start({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`] });
    try {
      assert.match(d.logs(), new RegExp(`level=warning msg="Binding to tcp://127\\.0\\.0\\.1:${port} without TLS: any local user can use the API"`));
      assert.match(d.logs(), /level=warning msg="Binding to an IP address, even on localhost, can also give access to scripts run in a browser/);
      const res = ok(await d.docker(['-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.Os}}']), 'docker version over TCP', d);
      assert.equal(res.stdout.trim(), 'linux');
    } finally {
      await d.stop();
    }
    for (const host of ['tcp://0.0.0.0:2375', 'tcp://[::]:2375', 'tcp://example.com:2375']) {
      const refused = await refusedStart(['-H', host]);
      assert.match(refused.stderr, /refusing to listen on tcp:\/\/\S+ without TLS: unauthenticated access to the API gives full control of the image store/);
    }
  });
});

describe('TLS', { timeout: 240_000 }, () => {
  let pki: TestPki;
  let otherPki: TestPki;
  let archive: string;
  before(async () => {
    [pki, otherPki, archive] = await Promise.all([
      makePki(),
      makePki('other-test-ca'),
      singlePlatformImage().then((fx) => dockerArchive(fx, { name: 'lading-tls:1' })),
    ]);
  });

  const serverFlags = (): string[] => [
    '--tlsverify',
    '--tlscacert', pki.ca.cert,
    '--tlscert', pki.server.cert,
    '--tlskey', pki.server.key,
  ];
  const clientFlags = (port: number, client?: { cert: string; key: string }, ca = pki.ca.cert): string[] => [
    '--tlsverify',
    '--tlscacert', ca,
    ...(client ? ['--tlscert', client.cert, '--tlskey', client.key] : []),
    '-H', `tcp://127.0.0.1:${port}`,
  ];

  describe('--tlsverify on 127.0.0.1', () => {
    let d: Daemon;
    let port: number;
    before(async () => {
      port = await freePort();
      d = await Daemon.start({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`, ...serverFlags()] });
    });
    after(async () => {
      await d?.stop();
    });

    it('serves the docker CLI holding a certificate signed by the CA, without warnings', async () => {
      const version = ok(await d.docker([...clientFlags(port, pki.client), 'version', '--format', '{{.Server.APIVersion}}']), 'docker version', d);
      assert.match(version.stdout.trim(), /^1\.\d+$/);
      const load = ok(await d.docker([...clientFlags(port, pki.client), 'load', '-i', archive], { timeoutMs: 120_000 }), 'docker load', d);
      assert.equal(load.stdout.trim(), 'Loaded image: lading-tls:1');
      const inspect = ok(await d.docker([...clientFlags(port, pki.client), 'image', 'inspect', '--format', '{{json .RepoTags}}', 'lading-tls:1']), 'docker inspect', d);
      assert.equal(inspect.stdout.trim(), '["lading-tls:1"]');
      assert.doesNotMatch(d.logs(64 * 1024), /Binding to tcp/);
    });

    it('refuses a client without a certificate', async () => {
      const res = await d.docker([...clientFlags(port), 'version', '--format', '{{.Server.APIVersion}}']);
      assert.notEqual(res.code, 0, res.stdout);
      assert.match(res.stderr, /certificate|tls|handshake|connection reset|EOF/i);
      await assert.rejects(httpsGet(port, { ca: readFileSync(pki.ca.cert) }));
    });

    it('refuses a client whose certificate another CA signed', async () => {
      const res = await d.docker([...clientFlags(port, otherPki.client), 'version', '--format', '{{.Server.APIVersion}}']);
      assert.notEqual(res.code, 0, res.stdout);
      assert.match(res.stderr, /certificate|tls|handshake|connection reset|EOF/i);
      await assert.rejects(
        httpsGet(port, { ca: readFileSync(pki.ca.cert), cert: readFileSync(otherPki.client.cert), key: readFileSync(otherPki.client.key) }),
      );
      // The same request with the right certificate is answered: the refusal was the certificate's.
      const good = await httpsGet(port, { ca: readFileSync(pki.ca.cert), cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) });
      assert.equal(good, 'OK');
    });

    it('does not answer plain HTTP on the TLS port', async () => {
      await assert.rejects(
        new Promise((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/_ping', timeout: 5_000 }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve('answered') : reject(new Error(`status ${res.statusCode}`))));
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        }),
      );
      assert.equal((await d.request('/_ping')).text, 'OK', 'the daemon still serves');
    });
  });

  it('daemon.json keys; with TLS, non-loopback addresses are allowed', async () => {
    const port = await freePort();
    const config = path.join(tempDir('tls-config'), 'daemon.json');
    writeFileSync(
      config,
      JSON.stringify({ tls: true, tlscacert: pki.ca.cert, tlscert: pki.server.cert, tlskey: pki.server.key }),
    );
    // --tls alone verifies clients too, as in dockerd (tlsverify defaults to tls).
    const d = await Daemon.start({ extraArgs: ['-H', `tcp://0.0.0.0:${port}`, '--config-file', config] });
    try {
      ok(await d.docker([...clientFlags(port, pki.client), 'version']), 'docker version over TLS', d);
      const res = await d.docker([...clientFlags(port), 'version']);
      assert.notEqual(res.code, 0, 'no client certificate, no answer');
      assert.doesNotMatch(d.logs(64 * 1024), /refusing|Binding to tcp/);
    } finally {
      await d.stop();
    }
  });

  it('bad TLS settings stop the start with a clear message', async () => {
    const missingCa = await refusedStart([...serverFlags().map((f) => (f === pki.ca.cert ? '/nonexistent/ca.pem' : f))]);
    assert.match(missingCa.stderr, /invalid TLS configuration: Could not read CA certificate "\/nonexistent\/ca.pem"/);
    const mismatched = await refusedStart(['--tlsverify', '--tlscacert', pki.ca.cert, '--tlscert', pki.server.cert, '--tlskey', pki.client.key]);
    assert.match(mismatched.stderr, /invalid TLS configuration: Could not load X509 key pair/);
    const notCa = path.join(tempDir('bad-ca'), 'ca.pem');
    writeFileSync(notCa, 'not a certificate\n');
    const badCa = await refusedStart(['--tlsverify', '--tlscacert', notCa, '--tlscert', pki.server.cert, '--tlskey', pki.server.key]);
    assert.match(badCa.stderr, /failed to append certificates from PEM file/);
  });
});

function httpsGet(port: number, tls: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/_ping', timeout: 5_000, ...tls }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
