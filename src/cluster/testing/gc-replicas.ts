import { sharedPostgres } from '../../../test/support/postgres.js';
import { ContentReader } from '../../content/content-reader.js';
import type { ContentStore } from '../../content/content-store.js';
import { GarbageCollector } from '../../gc/garbage-collector.js';
import { Leases } from '../../gc/leases.js';
import { PostgresMetadataStore } from '../../metadata/postgres/postgres-metadata-store.js';
import { PostgresGcQueue } from '../postgres-gc-queue.js';
import { PostgresLeases } from '../postgres-leases.js';

/** One replica's garbage collection: its metadata store, shared leases and review queue. */
export interface GcReplica {
  metadata: PostgresMetadataStore;
  leases: Leases;
  queue: PostgresGcQueue;
  gc: GarbageCollector;
}

/**
 * Replicas' garbage collection on one migrated database of the test process's PostgreSQL, each
 * over the content store it is given. What a test opens beside them goes to `closeLater`;
 * `close` ends it all, the newest first.
 */
export interface GcReplicas {
  readonly url: string;
  replica(owner: string, content: ContentStore): Promise<GcReplica>;
  closeLater(...closers: Array<() => Promise<unknown>>): void;
  close(): Promise<void>;
}

export async function gcReplicas(): Promise<GcReplicas> {
  const url = await (await sharedPostgres()).createDatabase();
  // Migrated before any replica opens.
  const migrated = await PostgresMetadataStore.open(url);
  const closers: Array<() => Promise<unknown>> = [() => migrated.close()];
  return {
    url,
    async replica(owner, content) {
      const metadata = await PostgresMetadataStore.open(url);
      const shared = new PostgresLeases(url, { owner, ttlMs: 30_000 });
      closers.push(() => metadata.close(), () => shared.close());
      await metadata.markGraphBuilt();
      const leases = new Leases(shared);
      const queue = new PostgresGcQueue(metadata, 60_000);
      return { metadata, leases, queue, gc: new GarbageCollector(content, metadata, new ContentReader(content), leases, queue) };
    },
    closeLater: (...more) => void closers.push(...more),
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
