import type { Logger } from '../util/logger.js';

/**
 * The `postgres` client (3.4.10, the one in package-lock) throws where no caller can catch it when a
 * query is sent in a transaction (`begin`, `reserve`) whose connection the database closed, as in an
 * outage: its execute() checks only for a connection ended by the client, so it buffers the query and
 * defers the write with setImmediate, and that callback writes to the socket closed() set to null
 * (porsager/postgres#1154, #1208; fixes proposed in #1168, #1176, #1209, never released in 3.4). The
 * transaction has already failed with CONNECTION_CLOSED and that query never settles, so a replica
 * survives an outage by ignoring exactly that throw; any other uncaught error ends the process as Node
 * would. There is no narrower place to catch it: the throw is in the client's own timer, not in any
 * call of ours (postgres-write-guard.test.ts reproduces it). 4.x rewrote the connection (no nextWrite);
 * remove this guard when moving to it, once that test stops seeing the throw.
 */
export function guardPostgresWrites(log: Logger): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (err) => {
    if (isClosedSocketWrite(err)) {
      log.warn('PostgreSQL connection closed under a buffered write; its query failed and is not retried');
      return;
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

let installed = false;

/** The client's throw: a TypeError on `write` of null, from nextWrite in its connection.js. */
export function isClosedSocketWrite(err: unknown): boolean {
  if (!(err instanceof TypeError) || !/reading 'write'/.test(err.message)) return false;
  const frame = err.stack?.split('\n')[1] ?? '';
  return /nextWrite/.test(frame) && /postgres[/\\]src[/\\]connection\.js/.test(frame);
}
