import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { PostgresEventLog } from '../cluster/postgres-event-log.js';
import { PostgresGcQueue, ReleaseFeed, type ReleaseListener } from '../cluster/postgres-gc-queue.js';
import { PostgresFetchClaims } from '../cluster/postgres-fetch-claims.js';
import { PostgresLeases } from '../cluster/postgres-leases.js';
import { guardPostgresWrites } from '../cluster/postgres-write-guard.js';
import type { EventLog } from '../events/event-log.js';
import type { GcQueue } from '../gc/gc-queue.js';
import { Leases } from '../gc/leases.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { FetchClaims } from '../registry/fetch-claims.js';
import { PostgresMetadataStore, describeDatabase } from '../metadata/postgres/postgres-metadata-store.js';
import { SpaceReserve } from '../metadata/space-reserve.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import type { Logger } from '../util/logger.js';
import type { DaemonConfig } from './config.js';
import { DEFAULT_LEASE_TTL_MS, defaultGcIntervalMs, recordMetadataLocation } from './metadata-location.js';

/** The metadata a daemon serves from, and what replicas sharing it share besides: leases, events, fetch claims. */
export interface OpenedMetadata {
  metadata: MetadataStore;
  leases: Leases;
  /** Replicas' shared event log; absent for a daemon alone. */
  eventLog?: EventLog;
  /** GC's review queue replicas share, and how often each replica reviews it; absent for a daemon alone. */
  gc?: { queue: GcQueue; intervalMs: number };
  /** Tells `listener` of every blob any replica's review releases (for its blob cache); absent for a daemon alone. */
  onReleased?(listener: ReleaseListener): void;
  /** Replicas' claims on the fetch of a digest (worth taking when they share a blob tier); absent for a daemon alone. */
  fetchClaims?: FetchClaims;
  /** This replica's id (its leases' owner, its metrics' `replica` label); absent for a daemon alone. */
  replica?: string;
  close(): Promise<void>;
}

/**
 * SQLite in the data root (the embedded default), or PostgreSQL shared by replicas: then leases
 * and events go through the database too, under this replica's id.
 */
export async function openMetadata(config: DaemonConfig, log: Logger): Promise<OpenedMetadata> {
  if (config.metadata?.kind !== 'postgres') {
    await recordMetadataLocation(config.dataRoot, undefined);
    // Held back so that `docker rmi` can commit when the disk is full (space-reserve.ts).
    const reserve = new SpaceReserve(path.join(config.dataRoot, 'metadata.reserve'));
    const metadata = new SqliteMetadataStore(path.join(config.dataRoot, 'metadata.db'), { reserve });
    return { metadata, leases: new Leases(), close: () => metadata.close() };
  }
  const { url } = config.metadata;
  guardPostgresWrites(log);
  const metadata = await PostgresMetadataStore.open(url, { logger: log });
  // `ladingd check` reads this, and refuses a data root whose metadata is elsewhere.
  await recordMetadataLocation(config.dataRoot, describeDatabase(url));
  const replica = randomUUID();
  const shared = new PostgresLeases(url, { owner: replica, ttlMs: config.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, logger: log });
  const leases = new Leases(shared, (err) => log.warn(`lease not recorded in the shared store: ${(err as Error).message}`));
  const eventLog = new PostgresEventLog(url, log);
  const gcIntervalMs = config.gcIntervalMs ?? defaultGcIntervalMs(config.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS);
  const gcQueue = new PostgresGcQueue(metadata, gcIntervalMs);
  let listener: ReleaseListener | undefined;
  const releases = new ReleaseFeed(url, await gcQueue.channelName(), {
    released: (digests) => listener?.released(digests),
    unknown: () => listener?.unknown(),
  }, log);
  try {
    await releases.start();
  } catch (err) {
    await Promise.all([releases.close(), eventLog.close(), shared.close()]);
    await metadata.close();
    throw err;
  }
  const fetchClaims = new PostgresFetchClaims(url);
  log.info(`Metadata, leases and events in PostgreSQL at ${describeDatabase(url)}, shared by replicas; this one is ${replica}`);
  return {
    metadata,
    leases,
    eventLog,
    gc: { queue: gcQueue, intervalMs: gcIntervalMs },
    onReleased: (l) => (listener = l),
    fetchClaims,
    replica,
    async close() {
      await releases.close();
      await eventLog.close();
      await shared.close();
      await metadata.close();
    },
  };
}
