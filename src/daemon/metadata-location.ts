/**
 * Where the daemon keeps its metadata: `--metadata` / daemon.json `metadata`. SQLite in the data
 * root by default (nothing to set up); `postgres://user:password@host:port/database` for replicas
 * that share one store (issue 14). A `search_path` query parameter picks a schema of the database.
 */
import { InvalidArgumentError } from '../errors.js';

export type MetadataLocation = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

export const METADATA_USAGE = `      --metadata string      Where image records live: "sqlite" (in the data root) or
                             postgres://user:password@host:port/database, shared by replicas
                             (default "sqlite")
      --lease-ttl duration   With PostgreSQL: how long the leases of a replica that
                             stopped renewing them last (default 30s)
`;

/** Leases of a write in flight outlive a dead replica this long (cluster/postgres-leases.ts). */
export const DEFAULT_LEASE_TTL_MS = 30_000;

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
