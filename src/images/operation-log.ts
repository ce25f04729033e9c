/**
 * The operator's log of what changed the store: one info line per load, pull, push, tag, remove and
 * prune (names, digests, bytes, duration), and one line per failed one. A registry refusing the
 * credentials is a warning; a client's mistake (a 4xx) is one info line without a stack; only an
 * internal error (a 5xx, a bug) is logged with its stack, here or, outside an operation, by the API
 * server (`wasLogged` keeps it from being logged twice).
 */
import { errorKind, type ErrorKind } from '../errors.js';
import { RegistryError } from '../registry/registry-errors.js';
import { formatLogDuration } from '../util/go-duration.js';
import type { LogFields, Logger } from '../util/logger.js';

export type Operation = 'load' | 'import' | 'pull' | 'push' | 'tag' | 'remove' | 'prune';

/** Adds fields to the operation's line as they become known (a digest, bytes written). */
export type Note = (fields: LogFields) => void;

const DONE: Record<Operation, string> = {
  load: 'Image loaded',
  import: 'Image imported',
  pull: 'Image pulled',
  push: 'Image pushed',
  tag: 'Image tagged',
  remove: 'Image removed',
  prune: 'Images pruned',
};

const logged = new WeakSet<object>();

/** The operation log has written this error with its stack already. */
export function wasLogged(err: unknown): boolean {
  return typeof err === 'object' && err !== null && logged.has(err);
}

export class OperationLog {
  constructor(private readonly log: Logger) {}

  /** Runs `fn` and logs its outcome with `fields`, what `fn` notes, and the time it took. */
  async run<T>(op: Operation, fields: LogFields, fn: (note: Note) => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    const noted: LogFields = { ...fields };
    const note: Note = (more) => Object.assign(noted, more);
    try {
      const result = await fn(note);
      this.log.info(DONE[op], { ...noted, duration: formatLogDuration(process.hrtime.bigint() - started) });
      return result;
    } catch (err) {
      this.failed(op, { ...noted, duration: formatLogDuration(process.hrtime.bigint() - started) }, err);
      throw err;
    }
  }

  private failed(op: Operation, fields: LogFields, err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    if (isCancelled(err)) {
      this.log.info(`${capitalized(op)} cancelled: the client went away`, { ...fields, error });
      return;
    }
    if (isAuthRefusal(err)) {
      this.log.warn(`Registry refused the ${op}: authentication failed`, { ...fields, error });
      return;
    }
    const kind: ErrorKind = errorKind(err);
    if (kind !== 'internal' && kind !== 'unavailable') {
      this.log.info(`${capitalized(op)} refused`, { ...fields, error });
      return;
    }
    this.log.error(`${capitalized(op)} failed`, { ...fields, error, stack: err instanceof Error ? err.stack : undefined });
    if (typeof err === 'object' && err !== null) logged.add(err);
  }
}

/** Codes of a request stream the client cut, or stalled, and of an operation it aborted. */
const CANCELLED = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_UPLOAD_STALLED', 'ABORT_ERR']);

/** The client went away or stopped sending: no bug, nothing the operator must act on. */
function isCancelled(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e.name === 'AbortError' || CANCELLED.has(String((e as { code?: unknown }).code))) return true;
  }
  return false;
}

/** containerd's ErrInvalidAuthorization, or a registry's UNAUTHORIZED/DENIED, anywhere in the chain. */
function isAuthRefusal(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof RegistryError && (e.facts.invalidAuthorization || e.facts.status === 401)) return true;
  }
  return false;
}

function capitalized(op: Operation): string {
  return op[0]!.toUpperCase() + op.slice(1);
}
