import postgres from 'postgres';
import type { FetchClaim, FetchClaims } from '../registry/fetch-claims.js';

/** Connections for claims: each claim held or waited for keeps one, in a transaction. */
const MAX_CONNECTIONS = 6;

/**
 * Fetch claims of replicas on one PostgreSQL (issue 14 item 3): a claim is a transaction-level
 * advisory lock on the digest, taken in a transaction that stays open while this replica fetches,
 * and committed to let it go. A replica that dies (kill -9, a lost machine) loses its session, and
 * PostgreSQL lets its locks go with it: the replica waiting for the claim gets it and, finding no
 * blob in the tier, fetches the blob itself. No table: nothing to clean after a crash.
 */
export class PostgresFetchClaims implements FetchClaims {
  private readonly sql: postgres.Sql;

  constructor(url: string) {
    this.sql = postgres(url, {
      max: MAX_CONNECTIONS,
      connect_timeout: 10,
      backoff: (retries) => Math.min(0.1 * retries, 1),
      onnotice: () => {},
      connection: { application_name: 'ladingd fetch claims' },
    });
  }

  claim(digest: string, signal?: AbortSignal): Promise<FetchClaim> {
    signal?.throwIfAborted();
    return new Promise<FetchClaim>((granted, refused) => {
      let letGo!: () => void;
      const released = new Promise<void>((resolve) => (letGo = resolve));
      this.sql
        .begin(async (tx) => {
          const lock = tx`SELECT pg_advisory_xact_lock(hashtextextended(${`lading fetch ${digest}`}, 0))`;
          // A pull whose client went away stops waiting: the wait is cancelled in the server.
          const cancel = (): void => void lock.cancel();
          signal?.addEventListener('abort', cancel, { once: true });
          try {
            await lock;
          } finally {
            signal?.removeEventListener('abort', cancel);
          }
          granted({ release: letGo });
          await released;
        })
        // Not granted: the wait failed (cancelled, the connection lost). Granted, the commit's
        // outcome changes nothing: the lock goes with the transaction or with its session.
        .catch((err: unknown) => refused(signal?.aborted ? signal.reason : err));
    });
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 1 });
  }
}
