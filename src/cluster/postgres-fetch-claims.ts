import postgres from 'postgres';
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
 * Why a connection per claim rather than a pool's: the `postgres` client (3.4.10) hangs a query
 * on a reserved or transaction connection whose server went away meanwhile (porsager/postgres#1208;
 * postgres-write-guard.ts), so a pooled claim connection lost in an outage would never come back,
 * and after a few outages no claim could be had. Ending a connection of its own always settles.
 */
export class PostgresFetchClaims implements FetchClaims {
  private readonly open = new Semaphore(MAX_OPEN_CLAIMS);

  constructor(private readonly url: string) {}

  async claim(digest: string, signal?: AbortSignal): Promise<FetchClaim> {
    const slot = await this.open.acquire(signal);
    const session = postgres(this.url, {
      max: 1,
      connect_timeout: 10,
      onnotice: () => {},
      connection: { application_name: 'ladingd fetch claim' },
    });
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
