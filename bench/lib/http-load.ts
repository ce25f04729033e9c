// Load generation: keep-alive HTTP/1.1 over unix sockets, `concurrency` connections each with one
// request in flight. It runs in a process of its own (LoadClient forks this file), so that the client
// and the server under test each get a core, and every server is measured by the same code.
//
// The client writes prebuilt request bytes on raw sockets and reads responses by Content-Length or
// chunked framing. node:http's client (http.Agent) was tried first: it spent a whole core at about
// 8,000 requests/s, so a bare server and ladingd measured the same; this one drives the bare server
// at several times that rate on well under a core.
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from './procfs.js';
import { quantile } from './stats.js';

export interface LoadRequest {
  /** Latencies are reported per label as well as in total. */
  label: string;
  path: string;
  method?: string;
}

export interface LoadJob {
  socket: string;
  /** Taken in turn by all connections. */
  requests: LoadRequest[];
  concurrency: number;
  /** Requests sent before measuring starts: connections open, caches fill, the JIT warms. */
  warmupMs: number;
  durationMs: number;
  /** Send each request exactly once (no warmup) and report how long that took. */
  once?: boolean;
  /** The server's pid: its CPU time over the measured window is reported too. */
  serverPid?: number;
}

export interface LatencyStats {
  count: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LoadResult extends LatencyStats {
  seconds: number;
  rps: number;
  /** CPU time the client used over the measured window, as a fraction of one core. */
  clientCpu: number;
  /**
   * CPU time of the server (all its threads) per answered request, in microseconds, when its pid was
   * given: less sensitive than rates to other processes on a busy machine.
   */
  serverCpuPerRequest: number;
  byLabel: Record<string, LatencyStats>;
  firstError?: string;
}

function summarize(latencies: number[], errors: number): LatencyStats {
  let max = Number.NaN;
  for (const v of latencies) if (!(v <= max)) max = v;
  return { count: latencies.length, errors, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max };
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * Where the first complete response in `buf` ends, and its status; undefined while incomplete.
 * Only what the servers under test send: Content-Length or chunked bodies, no trailers.
 */
export function parseResponse(buf: Buffer): { end: number; status: number } | undefined {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const status = Number(buf.toString('latin1', 9, 12));
  const head = buf.toString('latin1', 0, headEnd).toLowerCase();
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  if (length?.[1] !== undefined) {
    const end = headEnd + 4 + Number(length[1]);
    return buf.length >= end ? { end, status } : undefined;
  }
  if (!/\r\ntransfer-encoding: *chunked/.test(head)) return { end: headEnd + 4, status };
  let at = headEnd + 4;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (size === 0) return buf.length >= lineEnd + 4 ? { end: lineEnd + 4, status } : undefined;
    at = lineEnd + 2 + size + 2;
    if (buf.length < at) return undefined;
  }
}

/** Runs one job in this process. */
export async function runLoad(job: LoadJob): Promise<LoadResult> {
  if (job.requests.length === 0) throw new Error('a load job needs at least one request');
  const wire = job.requests.map((r) => Buffer.from(`${r.method ?? 'GET'} ${r.path} HTTP/1.1\r\nHost: docker\r\n\r\n`));
  const latencies = job.requests.map(() => [] as number[]);
  const errors = job.requests.map(() => 0);
  let firstError: string | undefined;

  let next = 0;
  const start = performance.now();
  const measureFrom = job.once ? start : start + job.warmupMs;
  const measureTo = job.once ? Number.POSITIVE_INFINITY : measureFrom + job.durationMs;
  const serverCpu = (): number => (job.serverPid === undefined ? Number.NaN : cpuSeconds(job.serverPid));
  let cpuAtStart = job.once ? process.cpuUsage() : undefined;
  let serverCpuAtStart = job.once ? serverCpu() : Number.NaN;
  const warmupTimer = job.once
    ? undefined
    : setTimeout(() => {
        cpuAtStart = process.cpuUsage();
        serverCpuAtStart = serverCpu();
      }, job.warmupMs);
  let serverCpuAtEnd = Number.NaN;
  const endTimer = job.once ? undefined : setTimeout(() => (serverCpuAtEnd = serverCpu()), job.warmupMs + job.durationMs);

  const connection = (): Promise<void> =>
    new Promise((resolve) => {
      let socket: net.Socket;
      let buf: Buffer = Buffer.alloc(0);
      let current = -1;
      let sentAt = 0;
      let inFlight = false;
      let finished = false;
      let lastError = 'connection closed';
      let failedConnects = 0;

      const finish = (): void => {
        finished = true;
        socket.destroy();
        resolve();
      };
      const record = (status: number, detail: string): void => {
        inFlight = false;
        const t1 = performance.now();
        if (sentAt < measureFrom || t1 > measureTo) return;
        if (status === 200) latencies[current]?.push(t1 - sentAt);
        else {
          errors[current] = (errors[current] ?? 0) + 1;
          firstError ??= `${job.requests[current]?.path}: ${detail}`;
        }
      };
      const send = (): void => {
        if (job.once && next >= wire.length) return finish();
        current = next++ % wire.length;
        sentAt = performance.now();
        if (sentAt >= measureTo) return finish();
        inFlight = true;
        socket.write(wire[current] as Buffer);
      };
      const connect = (): void => {
        buf = Buffer.alloc(0);
        socket = net.connect(job.socket);
        socket.on('connect', () => {
          failedConnects = 0;
          send();
        });
        socket.on('data', (chunk: Buffer) => {
          buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
          const res = parseResponse(buf);
          if (!res) return;
          record(res.status, res.status === 200 ? '' : `HTTP ${res.status} ${buf.toString('utf8', 0, Math.min(res.end, 400))}`);
          buf = buf.subarray(res.end);
          send();
        });
        socket.on('error', (err) => {
          lastError = err.message;
        });
        socket.on('close', () => {
          // The server closed the connection: the request in flight failed; open another one.
          if (finished) return;
          if (inFlight) record(0, lastError);
          else if (++failedConnects > 100) {
            firstError ??= `${job.socket}: ${lastError}`;
            return finish();
          }
          setTimeout(connect, 1);
        });
      };
      connect();
    });

  await Promise.all(Array.from({ length: job.concurrency }, connection));
  clearTimeout(warmupTimer);
  clearTimeout(endTimer);
  if (Number.isNaN(serverCpuAtEnd)) serverCpuAtEnd = serverCpu();
  const end = Math.min(performance.now(), measureTo);
  const cpu = process.cpuUsage(cpuAtStart);

  const seconds = (end - measureFrom) / 1000;
  const byLabel: Record<string, LatencyStats> = {};
  const grouped = new Map<string, { values: number[]; errors: number }>();
  job.requests.forEach((r, i) => {
    const g = grouped.get(r.label) ?? { values: [], errors: 0 };
    for (const v of latencies[i] ?? []) g.values.push(v);
    g.errors += errors[i] ?? 0;
    grouped.set(r.label, g);
  });
  for (const [label, g] of grouped) byLabel[label] = summarize(g.values, g.errors);
  const all = latencies.flat();
  const total = summarize(all, errors.reduce((a, b) => a + b, 0));
  return {
    ...total,
    seconds,
    rps: all.length / seconds,
    clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    serverCpuPerRequest: ((serverCpuAtEnd - serverCpuAtStart) * 1e6) / all.length,
    byLabel,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

/** A forked client process that runs jobs one at a time. */
export class LoadClient {
  private constructor(private readonly child: ChildProcess) {}

  static start(): LoadClient {
    const child = fork(fileURLToPath(import.meta.url), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new LoadClient(child);
  }

  run(job: LoadJob): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load client exited (code ${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (msg: { result?: LoadResult; error?: string }) => {
        this.child.off('exit', onExit);
        if (msg.result) resolve(msg.result);
        else reject(new Error(`load client: ${msg.error}`));
      });
      this.child.send(job);
    });
  }

  close(): void {
    this.child.disconnect();
  }
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  // Orphaned (the bench died): stop sending load.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (job: LoadJob) => {
    runLoad(job).then(
      (result) => process.send?.({ result }),
      (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
