// ladingd as a process: one daemon per data root, clean shutdown on SIGTERM with requests in flight
// finished and the socket removed, and images kept across a restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Daemon, request } from '../support/daemon.js';
import { run } from '../support/exec.js';
import { dockerArchive, singlePlatformImage } from '../support/images.js';
import { repoRoot, tempDir } from '../support/paths.js';

const LADINGD = path.join(repoRoot, 'bin', 'ladingd.js');

describe('ladingd process', () => {
  it('refuses a second daemon on the same data root, and the first keeps serving', async () => {
    const first = await Daemon.start();
    try {
      const otherSocket = path.join(tempDir('second'), 's.sock');
      const second = await run(process.execPath, [LADINGD, '-H', `unix://${otherSocket}`, '--data-root', first.dataRoot], {
        timeoutMs: 20_000,
      });
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /another ladingd is already running with data root/);
      assert.equal(existsSync(otherSocket), false, 'the refused daemon left no socket');
      assert.equal((await first.request('/_ping')).text, 'OK');
    } finally {
      await first.stop();
    }
  });

  it('refuses a unix socket whose directory does not exist, and creates neither that directory nor the data root', async () => {
    const dir = tempDir('nodir');
    const socket = path.join(dir, 'nonexistent-dir', 'x.sock');
    const dataRoot = path.join(dir, 'data');
    const res = await run(process.execPath, [LADINGD, '-H', `unix://${socket}`, '--data-root', dataRoot], { timeoutMs: 20_000 });
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.equal(
      res.stderr.trim(),
      `ladingd: can't create unix socket ${socket}: directory ${path.dirname(socket)} does not exist`,
    );
    assert.deepEqual(readdirSync(dir), [], 'nothing created');

    // Lading's own socket directory is made when missing.
    const runtime = path.join(dir, 'run');
    const own = spawn(process.execPath, [LADINGD, '--data-root', dataRoot], {
      stdio: 'ignore',
      env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: path.join(dir, 'config') },
    });
    try {
      assert.equal((await retry(() => request(path.join(runtime, 'lading', 'lading.sock'), '/_ping'))).text, 'OK');
    } finally {
      own.kill('SIGTERM');
      await new Promise((r) => own.once('exit', r));
    }
  });

  it('a start refused because its socket or port is in use leaves no data root and no unclean-shutdown marker', async () => {
    const first = await Daemon.start();
    const dir = tempDir('refused');
    const port = http.createServer();
    await new Promise<void>((resolve) => port.listen(0, '127.0.0.1', resolve));
    try {
      // The socket answers: refused before anything is made.
      const fresh = path.join(dir, 'fresh');
      const inUse = await run(process.execPath, [LADINGD, '-H', `unix://${first.socket}`, '--data-root', fresh], { timeoutMs: 20_000 });
      assert.equal(inUse.code, 1, inUse.stderr);
      assert.match(inUse.stderr, /address already in use by a running daemon/);
      assert.equal(existsSync(fresh), false, 'no data root');
      assert.equal((await first.request('/_ping')).text, 'OK', 'the first daemon keeps its socket');

      // The TCP port is taken: found once the stores are open, which are then undone.
      const socket = path.join(dir, 's.sock');
      const tcp = `tcp://127.0.0.1:${(port.address() as AddressInfo).port}`;
      const taken = await run(process.execPath, [LADINGD, '-H', `unix://${socket}`, '-H', tcp, '--data-root', fresh], { timeoutMs: 20_000 });
      assert.equal(taken.code, 1, taken.stderr);
      assert.match(taken.stderr, /EADDRINUSE/);
      assert.equal(existsSync(fresh), false, 'the data root this start made is gone');
      assert.equal(existsSync(socket), false, 'its socket is gone');

      // A data root in use before, stopped cleanly: the refused start leaves it clean.
      const used = await Daemon.start();
      await used.stop();
      const again = await run(process.execPath, [LADINGD, '-H', `unix://${socket}`, '-H', tcp, '--data-root', used.dataRoot], { timeoutMs: 20_000 });
      assert.equal(again.code, 1, again.stderr);
      assert.equal(existsSync(path.join(used.dataRoot, 'ladingd.dirty')), false, 'no unclean-shutdown marker');
      const next = spawn(process.execPath, [LADINGD, '-H', `unix://${socket}`, '--data-root', used.dataRoot], { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      next.stdout.on('data', (b: Buffer) => (log += b.toString()));
      next.stderr.on('data', (b: Buffer) => (log += b.toString()));
      try {
        await retry(() => request(socket, '/_ping'));
      } finally {
        next.kill('SIGTERM');
        await new Promise((r) => next.once('exit', r));
      }
      assert.doesNotMatch(log, /did not stop cleanly/);
    } finally {
      port.close();
      await first.stop();
    }
  });

  it('SIGTERM lets a load in flight finish, then removes the socket; images survive a restart', async () => {
    const archive = readFileSync(await dockerArchive(await singlePlatformImage(), { name: 'lifecycle:1' }));
    const daemon = await Daemon.start();
    // Send half the archive, stop the daemon, then the rest: the load must still be answered.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { socketPath: daemon.socket, path: '/v1.51/images/load?quiet=1', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } },
        (res) => {
          let body = '';
          res.on('data', (b: Buffer) => (body += b.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(archive.subarray(0, archive.length >> 1), () => {
        setTimeout(() => {
          process.kill(daemonPid(daemon), 'SIGTERM');
          setTimeout(() => req.end(archive.subarray(archive.length >> 1)), 300);
        }, 200);
      });
    });
    const { status, body } = await answer;
    assert.equal(status, 200, body);
    assert.equal(body, '{"stream":"Loaded image: lifecycle:1\\n"}\r\n');
    await daemon.stop();
    assert.equal(existsSync(daemon.socket), false, 'socket removed at shutdown');

    const again = spawn(process.execPath, [LADINGD, '-H', `unix://${daemon.socket}`, '--data-root', daemon.dataRoot], {
      stdio: 'ignore',
    });
    try {
      const inspect = await retry(() => daemon.request('/images/lifecycle:1/json'));
      assert.equal(inspect.status, 200, inspect.text);
      assert.deepEqual(inspect.json<{ RepoTags: string[] }>().RepoTags, ['lifecycle:1']);
    } finally {
      again.kill('SIGTERM');
      await new Promise((r) => again.once('exit', r));
    }
  });
});

/** The daemon's pid, from its lock-free view: the process listening is the one the harness spawned. */
function daemonPid(daemon: Daemon): number {
  const pid = (daemon as unknown as { child: { pid?: number } }).child.pid;
  if (!pid) throw new Error('daemon has no pid');
  return pid;
}

async function retry<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
