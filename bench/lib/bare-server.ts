// The ceiling for a small GET: a bare `http.createServer` in a process of its own, answering every
// request with one fixed response (the very headers and bytes ladingd sent for the same request).
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Headers node's http server adds by itself. */
const NODE_ADDS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** The headers of a response (as the test helpers' request() returns them) for the bare server to send. */
export function replayHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!NODE_ADDS.has(k) && v !== undefined) out[k] = v;
  return out;
}

interface Setup {
  socket: string;
  headers: OutgoingHttpHeaders;
  body: string;
}

export class BareServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly socket: string,
  ) {}

  static async start(socket: string, headers: OutgoingHttpHeaders, body: Buffer): Promise<BareServer> {
    const child = fork(fileURLToPath(import.meta.url), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bare server exited (code ${code})`)));
      child.once('message', () => resolve());
      child.send({ socket, headers, body: body.toString('base64') } satisfies Setup);
    });
    child.removeAllListeners('exit');
    return new BareServer(child, socket);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (setup: Setup) => {
    const body = Buffer.from(setup.body, 'base64');
    const server = http.createServer({ keepAliveTimeout: 30_000 }, (_req, res) => {
      res.writeHead(200, setup.headers);
      res.end(body);
    });
    rmSync(setup.socket, { force: true });
    server.listen(setup.socket, () => process.send?.('listening'));
    // Stopped, or orphaned (the bench died): either way the socket closes and the process ends.
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      server.close();
      server.closeAllConnections();
      if (process.connected) process.disconnect();
    };
    process.on('SIGTERM', stop);
    process.on('disconnect', stop);
  });
}
