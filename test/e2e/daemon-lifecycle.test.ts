// ladingd as a process: one daemon per data root, clean shutdown on SIGTERM with requests in flight
// finished and the socket removed, and images kept across a restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Daemon } from '../support/daemon.js';
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
