import { MetadataUnavailableError, NoSpaceError } from '../../errors.js';

const code = (err: unknown): string | undefined => {
  const c = (err as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
};

/** The client's own words for a connection it lost or never had (postgres's errors.js). */
const CLIENT_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
/** The system's, when the server is down or out of reach. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/**
 * SQLSTATEs of a server that is going or not there yet: 57P01 admin_shutdown (pg_ctl stop),
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, recovering), 53300
 * too_many_connections; and class 08, connection exceptions.
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Whether `err` says the database is out of reach (as opposed to a query it refused). */
export function isUnreachable(err: unknown): boolean {
  const c = code(err);
  if (c === undefined) return false;
  return CLIENT_CODES.has(c) || SOCKET_CODES.has(c) || SERVER_CODES.has(c) || c.startsWith('08');
}

/**
 * A transaction that lost a race and may simply run again: 40001 serialization_failure,
 * 40P01 deadlock_detected (two writers upserting the same keys in different orders).
 */
export function isRetryable(err: unknown): boolean {
  const c = code(err);
  return c === '40001' || c === '40P01';
}

/** 53100 disk_full: the server's disk, as SQLite's SQLITE_FULL is ours. */
function isDiskFull(err: unknown): boolean {
  return code(err) === '53100';
}

/** Our typed error for what the database answered, or `err` itself for anything else. */
export function translatePostgresError(err: unknown, database: string): unknown {
  if (err instanceof MetadataUnavailableError || err instanceof NoSpaceError) return err;
  if (isUnreachable(err)) return new MetadataUnavailableError(database, { cause: err });
  if (isDiskFull(err)) return new NoSpaceError(`PostgreSQL at ${database}`, { cause: err });
  return err;
}
