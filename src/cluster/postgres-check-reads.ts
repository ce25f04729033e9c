import postgres from 'postgres';
import { postgresClient } from '../metadata/postgres/postgres-client.js';
import { describeDatabase } from '../metadata/postgres/postgres-metadata-store.js';
import { translatePostgresError } from '../metadata/postgres/postgres-errors.js';

/** A row of the `leases` table, as the check reports it. */
export interface LeaseRow {
  digest: string;
  /** The replica's id (metadata-open.ts). */
  owner: string;
  expiresAt: Date;
  /** Not yet past its expiry, by the database's clock. */
  live: boolean;
}

/**
 * What the cluster check (daemon/cluster-check.ts) reads of the shared tables that the metadata
 * roles do not list: every lease with its expiry (postgres-leases.ts writes them), and the blobs
 * that have sources recorded. Reads only.
 */
export class PostgresCheckReads {
  private readonly sql: postgres.Sql;
  private readonly database: string;

  constructor(url: string) {
    this.sql = postgresClient(url, 'ladingd check', 2);
    this.database = describeDatabase(url);
  }

  async leases(): Promise<LeaseRow[]> {
    const rows = await this.query(() =>
      this.sql<Array<{ digest: string; owner: string; expires_at: Date; live: boolean }>>`
        SELECT digest, owner, expires_at, expires_at > now() AS live FROM leases ORDER BY digest, owner`,
    );
    return rows.map((r) => ({ digest: r.digest, owner: r.owner, expiresAt: r.expires_at, live: r.live }));
  }

  /** Whether any replica holds a lease on `digest` that has not lapsed (PostgresLeases.isHeld's rule). */
  async isLeased(digest: string): Promise<boolean> {
    const rows = await this.query(() => this.sql`SELECT 1 FROM leases WHERE digest = ${digest} AND expires_at > now() LIMIT 1`);
    return rows.length > 0;
  }

  async blobSourceDigests(): Promise<string[]> {
    const rows = await this.query(() => this.sql<Array<{ digest: string }>>`SELECT DISTINCT digest FROM blob_sources ORDER BY digest`);
    return rows.map((r) => r.digest);
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 1 });
  }

  private async query<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw translatePostgresError(err, this.database);
    }
  }
}
