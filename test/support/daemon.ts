// Runs ladingd for a test file and talks to it: raw HTTP, the docker CLI, docker-py.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { run, type RunResult } from './exec.js';
import { repoRoot, tempDir } from './paths.js';

// The machine's CLI 28 lives in /usr/local/bin; Debian's docker.io adds a 20.10 one in /usr/bin.
export const DOCKER =
  process.env.LADING_TEST_DOCKER ?? (existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker');
// Debian's interpreter has python3-docker; a pyenv python3 on PATH does not.
export const PYTHON = process.env.LADING_TEST_PYTHON ?? '/usr/bin/python3';

const START_TIMEOUT_MS = Number(process.env.LADING_TEST_START_TIMEOUT_MS ?? 20_000);
const STOP_TIMEOUT_MS = 15_000;
const LOG_LIMIT = 256 * 1024;

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  method?: string;
  /** Internal: set on the one retry after a stale pooled connection. */
  noRetry?: boolean;
  body?: Buffer | string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** One HTTP request over a unix socket; the path is sent as given (encode it yourself). */
export function request(socketPath: string, urlPath: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const method = opts.method ?? 'GET';
  return new Promise((resolve, reject) => {
    // A server that refuses an upload answers, then closes: the client may still be writing and get
    // EPIPE, but the answer it already received is what counts.
    let answered = false;
    const req = http.request({ socketPath, path: urlPath, method, headers: { Host: 'docker', ...opts.headers } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text,
          json<T>() {
            try {
              return JSON.parse(text) as T;
            } catch {
              throw new Error(`${method} ${urlPath}: body is not JSON (status ${res.statusCode}): ${text.slice(0, 500)}`);
            }
          },
        });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${urlPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const cut = err.code === 'EPIPE' || err.code === 'ECONNRESET';
      if (answered && cut) return;
      // A pooled keep-alive socket the daemon closed as idle just before we used it (tests run it
      // with short timeouts): the request never reached it, so send it again on a new connection.
      if (req.reusedSocket && cut && !opts.noRetry) {
        request(socketPath, urlPath, { ...opts, noRetry: true }).then(resolve, reject);
        return;
      }
      reject(err);
    });
    req.end(opts.body);
  });
}

/** The environment of a client: only our daemon, no user config, no hints. */
function clientEnv(socket: string, dockerConfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('DOCKER_') && !k.startsWith('PYTHON')) env[k] = v;
  }
  return { ...env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dockerConfig, DOCKER_CLI_HINTS: 'false' };
}

// Never leave a daemon behind when a test process ends, normally or by a signal (a runner's timeout,
// a closed pipe): kill what is still running, then let the signal do what it would have done.
const live = new Set<ChildProcess>();
const killLive = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.on('exit', killLive);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killLive();
    process.kill(process.pid, signal);
  });
}

export interface StartOptions {
  logLevel?: string;
  /** A data root of the test's own (a small tmpfs, say) instead of a fresh folder. */
  dataRoot?: string;
  extraArgs?: string[];
  /** Variables added to the daemon's environment (DOCKER_MIN_API_VERSION). */
  env?: NodeJS.ProcessEnv;
}

export class Daemon {
  private log = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(
    private readonly child: ChildProcess,
    readonly socket: string,
    readonly dataRoot: string,
    dockerConfig: string,
  ) {
    this.env = clientEnv(socket, dockerConfig);
    const keep = (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-LOG_LIMIT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
    });
    live.add(child);
    child.on('exit', () => live.delete(child));
  }

  /** Starts `bin/ladingd.js` on a fresh data root (or `opts.dataRoot`) and waits until `/_ping` answers OK. */
  static async start(opts: StartOptions = {}): Promise<Daemon> {
    const dir = tempDir('daemon');
    const socket = path.join(dir, 'docker.sock');
    const dataRoot = opts.dataRoot ?? path.join(dir, 'data');
    const dockerConfig = path.join(dir, 'docker-config');
    mkdirSync(dockerConfig);
    writeFileSync(path.join(dockerConfig, 'config.json'), '{}\n');
    const args = [
      path.join(repoRoot, 'bin', 'ladingd.js'),
      '-H', `unix://${socket}`,
      '--data-root', dataRoot,
      '--log-level', opts.logLevel ?? 'debug',
      ...(opts.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    const daemon = new Daemon(child, socket, dataRoot, dockerConfig);
    try {
      await daemon.waitReady();
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return daemon;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no attempt';
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(
          `ladingd exited before it was ready (code ${this.exited.code}, signal ${this.exited.signal})\n${this.logs()}`,
        );
      }
      try {
        const res = await request(this.socket, '/_ping', { timeoutMs: 2_000 });
        if (res.status === 200 && res.text === 'OK') return;
        last = `status ${res.status}: ${res.text.slice(0, 200)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ladingd did not answer GET /_ping within ${START_TIMEOUT_MS} ms (last: ${last})\n${this.logs()}`);
  }

  /** What the daemon has written to stdout and stderr (its log), the last 256 KiB. */
  output(): string {
    return this.log;
  }

  /** The tail of the daemon's output, for failure messages. */
  logs(limit = 8 * 1024): string {
    // A daemon that died says so first: a clipped report still shows how it ended.
    const ended = this.exited ? `ladingd exited (code ${this.exited.code}, signal ${this.exited.signal})\n` : '';
    return `${ended}--- ladingd output (last ${limit} bytes) ---\n${this.log.slice(-limit)}\n--- end ---`;
  }

  request(urlPath: string, opts?: RequestOptions): Promise<HttpResponse> {
    return request(this.socket, urlPath, opts);
  }

  /** `docker ARGS` against this daemon. */
  docker(args: readonly string[], opts: { input?: Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(DOCKER, args, { env: this.env, input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
  }

  /** Runs a Python snippet with docker-py; `client` is `docker.from_env()` on this daemon. */
  python(code: string, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    const prelude = 'import docker, json, sys\nclient = docker.from_env(timeout=60)\n';
    return run(PYTHON, ['-c', prelude + code], { env: this.env, timeoutMs: opts.timeoutMs ?? 60_000 });
  }

  /** Like `python`, but the snippet prints one JSON document; a failed run throws with its stderr. */
  async pythonJson<T = unknown>(code: string, opts: { timeoutMs?: number } = {}): Promise<T> {
    const res = await this.python(code, opts);
    if (res.code !== 0) throw new Error(`python exited ${res.code}: ${res.stderr.trim()}\n${this.logs()}`);
    return JSON.parse(res.stdout) as T;
  }

  /** kill -9: the daemon dies as in a crash, with nothing cleaned up. */
  async kill(): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  /** SIGTERM, then insists on a clean exit (code 0) within the timeout. */
  async stop(): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS).unref());
      if ((await Promise.race([this.exitPromise, timer])) === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exitPromise;
        throw new Error(`ladingd did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${this.logs()}`);
      }
    }
    const { code, signal } = this.exited ?? { code: null, signal: null };
    if (code !== 0) throw new Error(`ladingd exited with code ${code} (signal ${signal}) after SIGTERM\n${this.logs()}`);
  }
}
