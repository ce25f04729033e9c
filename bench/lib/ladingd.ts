// ladingd for the bench: the test helper's Daemon on a data root of our choosing, plus what the bench
// needs beyond it (the pid, for RSS; CPU profiles; start-up timing).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Daemon, request } from '../../test/support/daemon.js';
import { repoRoot } from '../../test/support/paths.js';
import { childPids, cpuSeconds, rssBytes, RssSampler } from './procfs.js';

/** Set by `--profile DIR`: every ladingd the bench starts (but timeToFirstAnswer's) writes a .cpuprofile there when it stops. */
let profileDir: string | undefined;
export function profileInto(dir: string): void {
  profileDir = dir;
}

export interface BenchDaemon {
  daemon: Daemon;
  socket: string;
  pid: number;
}

export async function startLadingd(dataRoot: string, extraArgs: readonly string[] = []): Promise<BenchDaemon> {
  // Daemon.start spawns with this process's environment; node refuses --cpu-prof in NODE_OPTIONS,
  // so a module loaded with --import runs the profiler inside the daemon.
  const saved = { options: process.env.NODE_OPTIONS, dir: process.env.LADING_BENCH_PROFILE_DIR };
  if (profileDir) {
    const hook = new URL('./cpu-profile-hook.js', import.meta.url).href;
    process.env.NODE_OPTIONS = `${saved.options ?? ''} --import=${hook}`.trim();
    process.env.LADING_BENCH_PROFILE_DIR = profileDir;
  }
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ logLevel: 'warn', extraArgs: ['--data-root', dataRoot, ...extraArgs] });
  } finally {
    restoreEnv('NODE_OPTIONS', saved.options);
    restoreEnv('LADING_BENCH_PROFILE_DIR', saved.dir);
  }
  const [pid] = childPids(daemon.socket);
  if (pid === undefined) throw new Error(`no ladingd process serving ${daemon.socket}`);
  return { daemon, socket: daemon.socket, pid };
}

/** What a piece of work cost: its time, and the CPU and memory of the process doing it (NaN where unknown). */
export interface WorkCost {
  ms: number;
  /** CPU seconds, all threads, during the work. */
  cpu: number;
  rssBefore: number;
  rssPeak: number;
}

/** One piece of work against a ladingd, and what it cost the daemon (RSS sampled every 25 ms). */
export interface FreshRun<T> extends WorkCost {
  result: T;
}

/**
 * Starts ladingd on a fresh data root (so that the work finds nothing there), times `work` against
 * it, then stops it and removes the data root.
 */
export async function onFreshLadingd<T>(prefix: string, work: (d: BenchDaemon) => Promise<T>): Promise<FreshRun<T>> {
  const dataRoot = path.join(mkdtempSync(path.join(tmpdir(), `lading-${prefix}-`)), 'data');
  const d = await startLadingd(dataRoot);
  try {
    return await measured(d, () => work(d));
  } finally {
    await d.daemon.stop();
    rmSync(path.dirname(dataRoot), { recursive: true, force: true });
  }
}

/** Times `work` against a running ladingd, with the daemon's CPU and its RSS (sampled every 25 ms) meanwhile. */
export async function measured<T>(d: BenchDaemon, work: () => Promise<T>): Promise<FreshRun<T>> {
  const rssBefore = rssBytes(d.pid);
  const sampler = new RssSampler(d.pid, 25);
  const cpu0 = cpuSeconds(d.pid);
  const t0 = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - t0;
    const cpu = cpuSeconds(d.pid) - cpu0;
    return { result, ms, cpu, rssBefore, rssPeak: sampler.stop() };
  } catch (err) {
    sampler.stop();
    throw err;
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/**
 * Milliseconds from spawning ladingd on `dataRoot` to the first 200 answer to GET `urlPath`, polled
 * every few milliseconds; the daemon is stopped again afterwards.
 */
export async function timeToFirstAnswer(dataRoot: string, urlPath: string, timeoutMs = 30_000): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-bench-start-'));
  const socket = path.join(dir, 's');
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin', 'ladingd.js'), '-H', `unix://${socket}`, '--data-root', dataRoot, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    while (performance.now() - t0 < timeoutMs && !gone) {
      const res = await request(socket, urlPath, { timeoutMs: 5_000 }).catch(() => undefined);
      if (res?.status === 200) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(gone ? 'ladingd exited before answering' : `ladingd did not answer ${urlPath} within ${timeoutMs} ms`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
