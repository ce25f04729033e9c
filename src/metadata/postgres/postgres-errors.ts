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
 * What may simply run again, for nothing of it was committed: a transaction that lost a race
 * (40001 serialization_failure; 40P01 deadlock_detected, two writers upserting the same keys in
 * different orders), or a session the server ended (57P01 admin_shutdown, 57P02 crash_shutdown),
 * which rolls back what it had not committed. The client (3.4.10) also hands the 57P01 that ended
 * a connection to the first query of the next one, which never reached the server; once more on
 * a fresh connection succeeds, or fails as unreachable while the server is away.
 */
export function isRetryable(err: unknown): boolean {
  // A query inside a transaction has had its failure translated (MetadataUnavailableError): its cause says.
  const c = code(err) ?? code((err as { cause?: unknown } | undefined)?.cause);
  return c === '40001' || c === '40P01' || c === '57P01' || c === '57P02';
}

/** `run` again while it fails with what isRetryable names, `attempts` times at most. */
export async function retrying<T>(run: () => Promise<T>, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) throw err;
    }
  }
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
