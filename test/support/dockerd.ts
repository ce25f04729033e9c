// A private Docker Engine (Debian's docker.io, 20.10) for oracle tests: the real daemon, run as root on
// temp dirs, with no network setup, the vfs driver and the containerd it starts and supervises itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DOCKER, request, type HttpResponse, type RequestOptions } from './daemon.js';
import { run, type RunResult } from './exec.js';

// Debian puts it in /usr/sbin, which a non-login PATH may lack.
export const DOCKERD =
  process.env.LADING_TEST_DOCKERD ?? (existsSync('/usr/sbin/dockerd') ? '/usr/sbin/dockerd' : 'dockerd');
/** Set to 1 where dockerd must work (CI): then an unavailable dockerd fails the tests instead of skipping them. */
const REQUIRED = process.env.LADING_TEST_REQUIRE_DOCKERD === '1';

const START_TIMEOUT_MS = Number(process.env.LADING_TEST_DOCKERD_START_TIMEOUT_MS ?? 60_000);
const STOP_TIMEOUT_MS = 20_000;

/** dockerd cannot run here (no root, no binary, refuses to start): tests skip with `message` as the reason. */
export class DockerdUnavailable extends Error {
  override name = 'DockerdUnavailable';
  /** dockerd's log tail, when it got as far as writing one. */
  constructor(
    message: string,
    readonly logs = '',
  ) {
    super(message);
  }
}

/** Short paths: dockerd's socket and its containerd's (`<exec-root>/containerd/containerd.sock`) must stay < 108 bytes. */
function shortTempDir(): string {
  return mkdtempSync('/tmp/lo-');
}

/** Mount points at or below `dir`, deepest first. dockerd bind-mounts its data root onto itself. */
function mountsUnder(dir: string): string[] {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return table
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Running (a zombie, waiting for a parent that may never reap it, counts as gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: `pid (comm) state …`; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Dockerd {
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;
  private readonly env: NodeJS.ProcessEnv;
  private cleaned = false;
  /** The log as it was at `stop`, once the temp dir is gone. */
  private lastLogs = '';
  private spawnError: Error | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly socket: string,
    private readonly logFile: string,
  ) {
    const dockerConfig = path.join(dir, 'cli');
    mkdirSync(dockerConfig);
    writeFileSync(path.join(dockerConfig, 'config.json'), '{}\n');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DOCKER_')) env[k] = v;
    this.env = { ...env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dockerConfig, DOCKER_CLI_HINTS: 'false' };
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
      // A spawn failure (ENOENT) emits 'error' and never 'exit'.
      child.on('error', (err) => {
        if (child.pid === undefined && !this.exited) {
          this.spawnError = err;
          this.exited = { code: null, signal: null };
          resolve();
        }
      });
    });
    // A dying test process takes dockerd along; its containerd follows (dockerd starts it with a parent-death
    // signal). The bind mount of the data root stays behind then: nothing but `stop` can undo it.
    process.on('exit', () => {
      if (!this.exited) child.kill('SIGKILL');
    });
  }

  /**
   * Starts dockerd on fresh temp dirs and waits until `/_ping` answers OK. Throws DockerdUnavailable when the
   * environment cannot run it (unless LADING_TEST_REQUIRE_DOCKERD=1, then a plain Error).
   */
  static async start(): Promise<Dockerd> {
    try {
      return await Dockerd.tryStart();
    } catch (err) {
      if (err instanceof DockerdUnavailable && REQUIRED) {
        throw new Error(`LADING_TEST_REQUIRE_DOCKERD=1 but ${err.message}\n${err.logs}`);
      }
      throw err;
    }
  }

  private static async tryStart(): Promise<Dockerd> {
    const uid = process.getuid?.();
    if (uid !== 0) throw new DockerdUnavailable(`dockerd needs root; this test runs as uid ${uid ?? 'unknown'}`);
    const dir = shortTempDir();
    const socket = path.join(dir, 's');
    const logFile = path.join(dir, 'dockerd.log');
    const configFile = path.join(dir, 'daemon.json');
    // Our own (empty) daemon.json: /etc/docker/daemon.json must not leak in.
    writeFileSync(configFile, '{}\n');
    const ns = `lading-oracle-${path.basename(dir).slice(3).toLowerCase()}`;
    const args = [
      '--config-file', configFile,
      '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--bridge=none',
      '--storage-driver=vfs',
      '--data-root', path.join(dir, 'd'),
      '--exec-root', path.join(dir, 'e'),
      '--pidfile', path.join(dir, 'p'),
      // Only matters if dockerd picks up a system containerd at /run/containerd: keep out of its namespaces.
      '--containerd-namespace', ns,
      '--containerd-plugins-namespace', `${ns}-plugins`,
      '-H', `unix://${socket}`,
    ];
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(DOCKERD, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const daemon = new Dockerd(child, dir, socket, logFile);
    const failure = await daemon.waitReady();
    if (failure === undefined) return daemon;
    await daemon.stop().catch(() => {});
    if ((failure as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DockerdUnavailable(`${DOCKERD} not found on PATH (Debian: apt-get install docker.io)`);
    }
    throw new DockerdUnavailable(`${DOCKERD} did not start: ${failure.message}`, daemon.logs());
  }

  /** Resolves undefined once `/_ping` answers OK, or an Error saying why it never will. */
  private async waitReady(): Promise<Error | undefined> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no attempt';
    while (Date.now() < deadline) {
      if (this.spawnError) return this.spawnError;
      if (this.exited) return new Error(`exited with code ${this.exited.code} (signal ${this.exited.signal})`);
      try {
        const res = await request(this.socket, '/_ping', { timeoutMs: 2_000 });
        if (res.status === 200 && res.text === 'OK') return undefined;
        last = `status ${res.status}: ${res.text.slice(0, 200)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(100);
    }
    return new Error(`no OK from GET /_ping within ${START_TIMEOUT_MS} ms (last: ${last})`);
  }

  /** The tail of dockerd's log (it lives in the temp dir until `stop`), for failure messages. */
  logs(limit = 8 * 1024): string {
    return `--- dockerd log (last ${limit} bytes) ---\n${this.readLog().slice(-limit)}\n--- end ---`;
  }

  private readLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return this.lastLogs;
    }
  }

  request(urlPath: string, opts?: RequestOptions): Promise<HttpResponse> {
    return request(this.socket, urlPath, opts);
  }

  /** `docker ARGS` (the CLI the other tests use) against this daemon. */
  docker(args: readonly string[], opts: { input?: Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(DOCKER, args, { env: this.env, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
  }

  /** The pid of the containerd dockerd supervises, while it runs. */
  private containerdPid(): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.dir, 'e', 'containerd', 'containerd.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * SIGTERM (SIGKILL after a timeout), waits for its containerd too, then unmounts and removes the temp dirs
   * (vfs leaves full copies of every layer; LADING_KEEP_TEST_TMP keeps them). Throws if dockerd did not exit
   * cleanly, had to be killed, or left mounts or dirs behind.
   */
  async stop(): Promise<void> {
    if (this.cleaned) return;
    const problems: string[] = [];
    const containerd = this.containerdPid();
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
      if ((await Promise.race([this.exitPromise, timer])) === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exitPromise;
        problems.push(`dockerd did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
      }
    }
    const { code, signal } = this.exited ?? { code: null, signal: null };
    if (code !== 0) problems.push(`dockerd exited with code ${code} (signal ${signal})`);
    if (containerd !== undefined) {
      const deadline = Date.now() + 10_000;
      while (isAlive(containerd) && Date.now() < deadline) await sleep(100);
      if (isAlive(containerd)) {
        process.kill(containerd, 'SIGKILL');
        problems.push(`its containerd (pid ${containerd}) outlived it`);
      }
    }
    this.lastLogs = this.readLog().slice(-64 * 1024);
    this.cleaned = true;
    for (const m of mountsUnder(this.dir)) {
      const res = await run('umount', ['-l', m]);
      if (res.code !== 0) problems.push(`umount ${m}: ${res.stderr.trim()}`);
    }
    if (!process.env.LADING_KEEP_TEST_TMP) {
      try {
        rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
      } catch (err) {
        problems.push(`rm -rf ${this.dir}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (existsSync(this.dir)) problems.push(`${this.dir} is still there`);
    }
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n${this.logs()}`);
  }
}
