/**
 * Where the daemon keeps its metadata: `--metadata` / daemon.json `metadata`. SQLite in the data
 * root by default (nothing to set up); `postgres://user:password@host:port/database` for replicas
 * that share one store (issue 14). A `search_path` query parameter picks a schema of the database.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';

export type MetadataLocation = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

export const METADATA_USAGE = `      --metadata string      Where image records live: "sqlite" (in the data root) or
                             postgres://user:password@host:port/database, shared by replicas
                             (default "sqlite")
      --lease-ttl duration   With PostgreSQL: how long the leases of a replica that
                             stopped renewing them last (default 30s)
      --gc-interval duration With PostgreSQL: how often each replica reviews the
                             garbage collection queue (default half the lease TTL,
                             between 1s and 15s)
`;

/** Leases of a write in flight outlive a dead replica this long (cluster/postgres-leases.ts). */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** --gc-interval's default: half the lease TTL, so a dead replica's orphans go soon after its leases lapse; 1 s to 15 s. */
export function defaultGcIntervalMs(leaseTtlMs: number): number {
  return Math.min(15_000, Math.max(1_000, Math.floor(leaseTtlMs / 2)));
}

/** Reads a `--metadata` value (or daemon.json's `metadata`); undefined is the default. */
export function parseMetadataLocation(value: string | undefined): MetadataLocation {
  if (value === undefined || value === 'sqlite') return { kind: 'sqlite' };
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // Refused below.
  }
  if (url && (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' && url.pathname.length > 1) {
    return { kind: 'postgres', url: value };
  }
  // The value may hold a password: never echo it.
  throw new InvalidArgumentError('invalid metadata location: want "sqlite" or postgres://user:password@host:port/database');
}

/**
 * In a data root whose daemon keeps its metadata in PostgreSQL: where (`host:port/database`). An
 * offline `ladingd check` of the data root alone would find no records and take every blob for
 * unused; with this file there it refuses instead (check.ts).
 */
export const METADATA_ELSEWHERE = 'metadata.location';

/** Writes (for PostgreSQL) or removes (for SQLite) the data root's METADATA_ELSEWHERE note. */
export async function recordMetadataLocation(dataRoot: string, elsewhere: string | undefined): Promise<void> {
  const file = path.join(dataRoot, METADATA_ELSEWHERE);
  if (elsewhere === undefined) await fs.rm(file, { force: true });
  else await fs.writeFile(file, `postgres ${elsewhere}\n`, { mode: 0o600 });
}

/** What METADATA_ELSEWHERE says, if the data root has one. */
export async function metadataElsewhere(dataRoot: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path.join(dataRoot, METADATA_ELSEWHERE), 'utf8')).trim();
  } catch {
    return undefined;
  }
}
