// What collects a killed replica's leftovers until the replicas' background sweep (GitLab's review
// queue, being built on branch h-gcqueue) does it by themselves: one sweep of the replicas' own
// garbage collector, run here as one more replica would run it (under the cross-replica sweep lock,
// keeping what any live lease holds), over every blob the metadata or the registry still records.
// The cluster crash harness calls it only when `ladingd check` is not clean by itself after the
// leases' TTL; with the background sweep in place it is never called.
import { PostgresCheckReads } from '../../src/cluster/postgres-check-reads.js';
import { PostgresLeases } from '../../src/cluster/postgres-leases.js';
import { targetOfTag } from '../../src/content/holder-manifest.js';
import { registryTier } from '../../src/content/testing/registry-content-harness.js';
import { Leases } from '../../src/gc/leases.js';
import { ImageService } from '../../src/images/image-service.js';
import { PostgresMetadataStore } from '../../src/metadata/postgres/postgres-metadata-store.js';
import { BLOB_REPOSITORY } from '../support/cluster.js';

/** Collects what no image reaches and no live lease holds; returns how many blobs it deleted. */
export async function sweepLeftovers(url: string, registryHost: string): Promise<number> {
  const metadata = await PostgresMetadataStore.open(url);
  const shared = new PostgresLeases(url, { owner: 'crash-harness-sweep', ttlMs: 30_000 });
  const tables = new PostgresCheckReads(url);
  const tier = await registryTier(registryHost, 64 * 1024 * 1024, BLOB_REPOSITORY);
  try {
    if (!metadata.graphBuilt) throw new Error('the blob graph is not built: a sweep would wait for it');
    const candidates = new Set<string>();
    for (const tag of await tier.remote.tags()) {
      const target = targetOfTag(tag);
      if (target !== undefined) candidates.add(target);
    }
    for (const facts of await metadata.listLayerFacts()) candidates.add(facts.digest);
    for (const digest of await tables.blobSourceDigests()) candidates.add(digest);
    for (const { parent, child } of await metadata.listBlobEdges()) candidates.add(parent).add(child);
    const images = new ImageService(tier.store, metadata, undefined, undefined, undefined, new Leases(shared));
    return (await images.collectGarbage(candidates)).length;
  } finally {
    await tier.close();
    await tables.close();
    await shared.close();
    await metadata.close();
  }
}
