// docker import (issue 15, item 6): a busybox-static rootfs tar made a one-layer image, read back by
// docker save, skopeo and docker history; changes applied; a bad change refused in Docker's words.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { ok, streamMessages } from '../support/cli-result.js';
import { Daemon } from '../support/daemon.js';
import { runOk } from '../support/exec.js';
import { BUSYBOX } from '../support/images.js';
import { tempDir } from '../support/paths.js';

interface SkopeoConfig {
  architecture: string;
  os: string;
  config: Record<string, unknown>;
  rootfs: { diff_ids: string[] };
  history: Array<{ comment?: string; created_by?: string }>;
}

describe('docker import', { timeout: 300_000 }, () => {
  let d: Daemon;
  let dir: string;
  let rootfsTar: string;

  before(async () => {
    d = await Daemon.start();
    dir = tempDir('import');
    const root = path.join(dir, 'rootfs');
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync(BUSYBOX, path.join(root, 'bin', 'busybox'));
    symlinkSync('busybox', path.join(root, 'bin', 'sh'));
    rootfsTar = path.join(dir, 'rootfs.tar');
    await runOk('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', rootfsTar, 'bin']);
  });
  after(async () => {
    await d?.stop();
  });

  async function savedConfig(ref: string): Promise<SkopeoConfig> {
    const archive = path.join(dir, `${ref.replace(/[:/]/g, '_')}.tar`);
    const saved = await d.docker(['save', '-o', archive, ref]);
    ok(saved, 'docker save', d);
    const inspected = await runOk('skopeo', ['inspect', '--config', `docker-archive:${archive}`]);
    return JSON.parse(inspected.stdout) as SkopeoConfig;
  }

  it('imports a rootfs tar with changes and a message; save, skopeo and history read it', async () => {
    const imported = await d.docker([
      'import',
      '-c', 'CMD ["/bin/sh"]',
      '-c', 'ENV A=b',
      '-c', 'EXPOSE 80',
      '-c', 'LABEL x="y z"',
      '-c', 'WORKDIR /srv',
      '-c', 'USER 1000',
      '-m', 'msg',
      rootfsTar,
      'imp:1',
    ]);
    ok(imported, 'docker import', d);
    assert.match(imported.stdout.trim(), /^sha256:[0-9a-f]{64}$/);

    const inspect = JSON.parse(ok(await d.docker(['image', 'inspect', 'imp:1']), 'inspect', d).stdout) as Array<{ Id: string }>;
    assert.equal(inspect[0]?.Id, imported.stdout.trim(), 'the ID printed is the image');

    const config = await savedConfig('imp:1');
    assert.deepEqual(config.config.Cmd, ['/bin/sh']);
    assert.deepEqual(config.config.Env, ['A=b']);
    assert.deepEqual(config.config.ExposedPorts, { '80/tcp': {} });
    assert.deepEqual(config.config.Labels, { x: 'y z' });
    assert.equal(config.config.WorkingDir, '/srv');
    assert.equal(config.config.User, '1000');
    assert.equal(config.os, 'linux');
    assert.equal(config.rootfs.diff_ids.length, 1);
    const tarDigest = (await runOk('sha256sum', [rootfsTar])).stdout.split(' ')[0];
    assert.equal(config.rootfs.diff_ids[0], `sha256:${tarDigest}`, 'the layer is the tar as given');
    assert.deepEqual(config.history.map((h) => h.comment), ['msg']);

    const history = ok(await d.docker(['history', '--no-trunc', '--format', '{{.Comment}}', 'imp:1']), 'history', d);
    assert.equal(history.stdout.trim(), 'msg');
  });

  it('without a message, the comment is "Imported from -"; without a name, the image is dangling', async () => {
    const imported = ok(await d.docker(['import', rootfsTar]), 'docker import', d);
    const id = imported.stdout.trim();
    const history = ok(await d.docker(['history', '--no-trunc', '--format', '{{.Comment}}', id]), 'history', d);
    assert.equal(history.stdout.trim(), 'Imported from -');
    const dangling = ok(await d.docker(['images', '-q', '--no-trunc', '--filter', 'dangling=true']), 'images', d);
    assert.ok(dangling.stdout.includes(id), dangling.stdout);
  });

  it('a bad change is a 400 in Docker\'s words, and nothing is imported', async () => {
    const run1 = await d.docker(['import', '-c', 'RUN echo hi', rootfsTar, 'bad:1']);
    assert.notEqual(run1.code, 0);
    assert.match(run1.stderr, /Error response from daemon: run is not a valid change command/);
    const res = await d.request('/v1.51/images/create?fromSrc=-&repo=bad&changes=EXPOSE%20abc', { method: 'POST', body: readFileSync(rootfsTar) });
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.text) as { message: string }).message, 'invalid containerPort: abc');
    const missing = await d.docker(['image', 'inspect', 'bad:1']);
    assert.notEqual(missing.code, 0);
  });

  it('imports from an http URL, reporting the download', async () => {
    const body = readFileSync(rootfsTar);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const url = `http://127.0.0.1:${port}/rootfs.tar`;
      const res = await d.request(`/v1.51/images/create?fromSrc=${encodeURIComponent(url)}&repo=fromurl&tag=2`, { method: 'POST' });
      assert.equal(res.status, 200);
      const messages = streamMessages(res.text);
      assert.equal(messages[0]?.status, `Downloading from ${url}`);
      const importing = messages.filter((m) => m.status === 'Importing');
      assert.ok(importing.length > 0, res.text);
      // Docker 28.5's bar up to 1.51.
      for (const m of importing) assert.match(String(m.progress), /^\[=*>? *\] +\S+\/\S+$/, JSON.stringify(m));
      const last = messages[messages.length - 1];
      assert.match(String(last?.status), /^sha256:[0-9a-f]{64}$/);
      const config = await savedConfig('fromurl:2');
      assert.deepEqual(config.history.map((h) => h.comment), [`Imported from ${url}`]);

      // Docker 29.7 (1.52+) draws no bar in any stream.
      const at152 = await d.request(`/v1.52/images/create?fromSrc=${encodeURIComponent(url)}&repo=fromurl&tag=3`, { method: 'POST' });
      assert.equal(at152.status, 200);
      const lines152 = streamMessages(at152.text).filter((m) => m.status === 'Importing');
      assert.ok(lines152.length > 0, at152.text);
      for (const m of lines152) {
        assert.ok(!('progress' in m), JSON.stringify(m));
        assert.equal(typeof (m.progressDetail as { current?: unknown }).current, 'number');
      }
    } finally {
      server.close();
    }
  });

  it('a URL nothing answers: Go\'s words for the failed GET, and nothing imported', async () => {
    // A port just closed: nothing listens there.
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/rootfs.tar`;
    const res = await d.request(`/v1.51/images/create?fromSrc=${encodeURIComponent(url)}&repo=nourl`, { method: 'POST' });
    assert.equal(res.status, 500, res.text);
    assert.equal(
      (JSON.parse(res.text) as { message: string }).message,
      `Get "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    assert.notEqual((await d.docker(['image', 'inspect', 'nourl'])).code, 0);
  });

  it('imports through dockerode, changes applied', async () => {
    const docker = new Docker({ socketPath: d.socket, timeout: 60_000 });
    const stream = (await docker.importImage(rootfsTar, {
      repo: 'viadockerode',
      tag: '3',
      changes: ['ENTRYPOINT ["/bin/busybox"]', 'STOPSIGNAL SIGINT'],
    } as never)) as unknown as NodeJS.ReadableStream;
    const output = await new Promise<string>((resolve, reject) => {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    });
    assert.match(output, /"status":"sha256:[0-9a-f]{64}"/);
    const config = await savedConfig('viadockerode:3');
    assert.deepEqual(config.config.Entrypoint, ['/bin/busybox']);
    assert.equal(config.config.StopSignal, 'SIGINT');
  });
});
