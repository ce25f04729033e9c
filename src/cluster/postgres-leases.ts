import postgres from 'postgres';
import type { SharedLeases } from '../gc/leases.js';
import { postgresClient } from '../metadata/postgres/postgres-client.js';
import { retrying, translatePostgresError } from '../metadata/postgres/postgres-errors.js';
import { describeDatabase } from '../metadata/postgres/postgres-metadata-store.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Tries of a lease write whose session the server ended before it committed (isRetryable). */
const MAX_ATTEMPTS = 3;

/**
 * The advisory lock key of one blob, in every schema: a lease write takes it shared
 * (pg_advisory_xact_lock_shared), a review of the blob in GC's queue alone (postgres-gc-queue.ts),
 * so a review never decides on a blob while a lease on it is being recorded.
 */
export function blobLockKey(digest: string): string {
  return `lading blob ${digest}`;
}

export interface PostgresLeaseOptions {
  /** This replica's id, the owner of its leases. */
  owner: string;
  /** How long a lease outlives the last heartbeat of its replica (--lease-ttl). */
  ttlMs: number;
  logger?: Logger;
}

/**
 * Leases in PostgreSQL (issue 14 item 3): a row per (digest, owner) with a hold count, renewed by
 * this replica's heartbeat every third of the TTL. A replica killed with kill -9 renews nothing, so
 * its leases lapse after the TTL and the blobs its writes left unnamed become collectable.
 */
export class PostgresLeases implements SharedLeases {
  private readonly sql: postgres.Sql;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly ttl: string;
  private readonly database: string;

  constructor(url: string, private readonly options: PostgresLeaseOptions) {
    this.sql = postgresClient(url, 'ladingd leases', 3);
    this.ttl = `${options.ttlMs} milliseconds`;
    this.database = describeDatabase(url);
    const logger = options.logger ?? silentLogger;
    this.heartbeat = setInterval(() => {
      this.renew().catch((err: unknown) => logger.warn(`leases not renewed: ${(err as Error).message}`));
    }, Math.max(50, Math.floor(options.ttlMs / 3)));
    this.heartbeat.unref();
  }

  async hold(digest: string): Promise<void> {
    await this.run(() => this.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock_shared(hashtextextended(${blobLockKey(digest)}, 0))`;
      await tx`INSERT INTO leases (digest, owner, holds, expires_at)
        VALUES (${digest}, ${this.options.owner}, 1, now() + ${this.ttl}::interval)
        ON CONFLICT (digest, owner) DO UPDATE SET holds = leases.holds + 1, expires_at = EXCLUDED.expires_at`;
    }));
  }

  async release(digest: string): Promise<void> {
    await this.run(() => this.sql.begin(async (tx) => {
      const [row] = await tx<Array<{ holds: number }>>`UPDATE leases SET holds = holds - 1
        WHERE digest = ${digest} AND owner = ${this.options.owner} RETURNING holds`;
      if (row && row.holds <= 0) await tx`DELETE FROM leases WHERE digest = ${digest} AND owner = ${this.options.owner}`;
    }));
  }

  async isHeld(digest: string): Promise<boolean> {
    const rows = await this.run(() => this.sql`SELECT 1 FROM leases WHERE digest = ${digest} AND expires_at > now() LIMIT 1`);
    return rows.length > 0;
  }

  /**
   * The heartbeat: this replica's leases live on; lapsed ones of any replica go, and their blobs
   * (what a dead replica's writes left) are queued for review in the same statement.
   */
  async renew(): Promise<void> {
    await this.run(() => this.sql`UPDATE leases SET expires_at = now() + ${this.ttl}::interval WHERE owner = ${this.options.owner}`);
    await this.run(() => this.sql`WITH lapsed AS (DELETE FROM leases WHERE expires_at <= now() RETURNING digest)
      INSERT INTO gc_review_queue (digest, review_after) SELECT DISTINCT digest, now() FROM lapsed
      ON CONFLICT (digest) DO UPDATE SET review_after = LEAST(gc_review_queue.review_after, EXCLUDED.review_after)`);
  }

  /** A write that failed answers as the metadata's do: a database out of reach is a 503 that says so. */
  private async run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await retrying(query, MAX_ATTEMPTS);
    } catch (err) {
      throw translatePostgresError(err, this.database);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    // What this replica held goes with it: a clean stop leaves no lease to wait out.
    await this.sql`DELETE FROM leases WHERE owner = ${this.options.owner}`.catch(() => undefined);
    await this.sql.end({ timeout: 1 });
  }
}
