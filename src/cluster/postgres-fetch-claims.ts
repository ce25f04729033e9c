import { postgresClient } from '../metadata/postgres/postgres-client.js';
import type { FetchClaim, FetchClaims } from '../registry/fetch-claims.js';
import { Semaphore } from '../registry/semaphore.js';

/** Claims held or waited for at once by one replica, each on a connection of its own. */
const MAX_OPEN_CLAIMS = 8;

/**
 * Fetch claims of replicas on one PostgreSQL (issue 14 item 3): a claim is a session-level advisory
 * lock on the digest, on a connection of its own that ends to let it go. A replica that dies
 * (kill -9, a lost machine) loses its sessions, and PostgreSQL lets their locks go with them: the
 * replica waiting for the claim gets it and, finding no blob in the tier, fetches the blob itself.
 * No table: nothing to clean after a crash.
 *
 * Why a connection per claim rather than a transaction on a pool's: the `postgres` client (3.4.10)
 * never settles a query sent in a transaction whose connection the database closed meanwhile (and
 * throws from its own timer: postgres-write-guard.ts), so the commit letting a pooled claim go after
 * an outage would hang, and its connection with it. Ending a connection of its own always settles.
 */
export class PostgresFetchClaims implements FetchClaims {
  private readonly open = new Semaphore(MAX_OPEN_CLAIMS);

  constructor(private readonly url: string) {}

  async claim(digest: string, signal?: AbortSignal): Promise<FetchClaim> {
    const slot = await this.open.acquire(signal);
    const session = postgresClient(this.url, 'ladingd fetch claim', 1);
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      // The session's end lets the lock go (a cut connection too: the server ends the session).
      void session.end({ timeout: 0 }).catch(() => undefined).finally(slot);
    };
    // A pull whose client went away stops waiting.
    signal?.addEventListener('abort', end, { once: true });
    if (signal?.aborted) end();
    try {
      await session`SELECT pg_advisory_lock(hashtextextended(${`lading fetch ${digest}`}, 0))`;
    } catch (err) {
      end();
      throw signal?.aborted ? (signal.reason as Error) : err;
    } finally {
      signal?.removeEventListener('abort', end);
    }
    return { release: end };
  }
}
