import type { Logger } from '../util/logger.js';

/**
 * The `postgres` client (3.4.10) batches small writes behind a setImmediate; when the connection
 * closes first (the database stopped), that callback writes to a null socket and throws where no
 * caller can catch it, ending the process (porsager/postgres#1154, #1208; fixes proposed in #1168,
 * #1176, #1209, not released). The query it belonged to has already failed with CONNECTION_CLOSED,
 * so a replica survives an outage by ignoring exactly that throw. Any other uncaught error ends the
 * process as Node would. Remove once a fixed client is released.
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
