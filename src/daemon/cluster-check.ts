import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PostgresCheckReads } from '../cluster/postgres-check-reads.js';
import { BlobCache } from '../content/blob-cache.js';
import type { ContentStore } from '../content/content-store.js';
import { heldBlobs, holderTag, targetOfTag } from '../content/holder-manifest.js';
import { RegistryContentStore } from '../content/registry-content-store.js';
import type { RemoteBlobs } from '../content/remote-blobs.js';
import type { ImageRecord, MetadataStore } from '../metadata/metadata-store.js';
import { describeDatabase, PostgresMetadataStore } from '../metadata/postgres/postgres-metadata-store.js';
import type { Descriptor } from '../oci/types.js';
import { RegistryBlobs } from '../registry/registry-blobs.js';
import { RegistryService } from '../registry/registry-service.js';
import type { BlobStoreSettings } from './blob-store-options.js';
import { displayName, ImageWalker, type BlobPresence } from './check-walk.js';
import type { CheckProblem, CheckResult } from './check.js';
import type { RegistrySettings } from './registry-options.js';

/**
 * `ladingd check --metadata postgres://… --blob-store registry://…`: the cluster's store checked
 * from outside the replicas, read-only, while they run.
 *
 * - every image record's graph (index → manifests → config and layers) is in the registry (HEAD of
 *   each blob; the indexes, manifests and configs read are checked against their digests);
 * - every named target has its holder manifest, listing every blob of the target that is there;
 * - no holder keeps a target that no image reaches, and no layer record, blob source or link of the
 *   blob graph is left of a blob that no image reaches, unless a lease that has not lapsed holds it
 *   (another replica's write in flight);
 * - the blob graph has the links each walked index's and manifest's JSON lists, and no others;
 * - leases past their expiry (a replica that died) are noted, not counted as problems.
 *
 * Replicas keep writing meanwhile, so every finding is confirmed before it is reported: an image's
 * issues are looked for again if it is still named; a leftover is reported only when, asked in this
 * order, no lease holds it and then no image reaches it (a write holds its leases until its records
 * have committed, so a write in flight is never taken for one).
 */

export interface ClusterStores {
  metadata: MetadataStore;
  /** The registry tier, for reading JSON blobs verified. */
  content: ContentStore;
  /** The repository itself: presence (HEAD), holders, tags. */
  remote: RemoteBlobs;
  tables: PostgresCheckReads;
}

export interface ClusterCheckResult extends CheckResult {
  /** Informative lines (lapsed leases), not problems. */
  notes: string[];
}

export async function checkClusterStores(stores: ClusterStores): Promise<ClusterCheckResult> {
  const { metadata, content, remote, tables } = stores;
  const problems: CheckProblem[] = [];
  const report = (message: string): void => {
    problems.push({ message, repaired: false });
  };
  const presence = registryPresence(remote);

  const records = await metadata.listImages();
  const byTarget = new Map<string, ImageRecord[]>();
  for (const record of records) {
    const list = byTarget.get(record.target.digest) ?? [];
    list.push(record);
    byTarget.set(record.target.digest, list);
  }

  // Images: their content and their holders; what they reach is not a leftover.
  const reachable = new Set<string>();
  const walker = new ImageWalker(content, presence, reachable);
  for (const [digest, group] of byTarget) {
    let issues = await targetIssues(walker, remote, presence, group[0]!.target);
    if (issues.length > 0) issues = await confirmedIssues(stores, group);
    const who = `image ${group.map((r) => displayName(r)).join(', ')} (${digest})`;
    for (const issue of issues) report(`${who}: ${issue}`);
  }

  // The blob graph against the walk, for what the walk parsed.
  const stored = await edgesByParent(metadata);
  const mismatched = [...walker.edges].filter(([parent, children]) => !sameSet(stored.get(parent), children)).map(([parent]) => parent);
  if (mismatched.length > 0) {
    const again = await edgesByParent(metadata);
    for (const parent of mismatched) {
      const children = walker.edges.get(parent)!;
      const have = again.get(parent) ?? new Set<string>();
      if (sameSet(have, children) || !(await metadata.isBlobReachable(parent))) continue;
      const missing = [...children].filter((c) => !have.has(c));
      const extra = [...have].filter((c) => !children.has(c));
      const parts = [
        ...(missing.length > 0 ? [`lacks ${missing.length} of its link(s) (${missing[0]}…)`] : []),
        ...(extra.length > 0 ? [`has ${extra.length} link(s) its JSON does not list (${extra[0]}…)`] : []),
      ];
      report(`blob graph: ${parent} ${parts.join(' and ')}`);
    }
  }

  // Leftovers: what no image reaches, found in the walk's snapshot, then confirmed one by one.
  const leftover = async (digest: string): Promise<boolean> =>
    !reachable.has(digest) && !(await tables.isLeased(digest)) && !(await metadata.isBlobReachable(digest));
  for (const tag of await remote.tags()) {
    const target = targetOfTag(tag);
    if (target === undefined || !(await leftover(target))) continue;
    if ((await remote.getManifest(tag)) === undefined) continue;
    report(`holder ${tag} in ${remote.location} keeps the blobs of ${target}, which no image reaches and no lease holds`);
  }
  for (const facts of await metadata.listLayerFacts()) {
    if (await leftover(facts.digest)) report(`layer record of ${facts.digest}, a blob no image reaches and no lease holds`);
  }
  for (const digest of await tables.blobSourceDigests()) {
    if (await leftover(digest)) report(`blob sources of ${digest}, a blob no image reaches and no lease holds`);
  }
  for (const parent of stored.keys()) {
    if (await leftover(parent)) report(`blob graph: links out of ${parent}, a blob no image reaches and no lease holds`);
  }

  const notes = lapsedLeases(await tables.leases());
  return { blobs: presence.found(), images: byTarget.size, problems, notes };
}

/** What is wrong with a target: its content, then its holder. */
async function targetIssues(walker: ImageWalker, remote: RemoteBlobs, presence: RegistryPresence, target: Descriptor): Promise<string[]> {
  const reached = new Set<string>();
  const issues = await walker.image(target, reached);
  const bytes = await remote.getManifest(holderTag(target.digest));
  const present: string[] = [];
  for (const digest of reached) if ((await presence.size(digest)) !== undefined) present.push(digest);
  if (bytes === undefined) {
    if (present.length > 0) {
      issues.push(`no holder ${holderTag(target.digest)} in ${remote.location}: the registry's garbage collector may delete its ${present.length} blob(s)`);
    }
    return issues;
  }
  const held = new Set(heldBlobs(bytes).map((b) => b.digest));
  const unheld = present.filter((d) => !held.has(d));
  if (unheld.length > 0) {
    issues.push(`its holder ${holderTag(target.digest)} lacks ${unheld.length} of its blob(s) (${unheld[0]}…): the registry's garbage collector may delete them`);
  }
  return issues;
}

/** An image's issues looked for again, against the registry as it is now, if it is still named so. */
async function confirmedIssues(stores: ClusterStores, group: ImageRecord[]): Promise<string[]> {
  const target = group[0]!.target;
  const still = (await stores.metadata.imagesByTarget(target.digest)).filter((r) => group.some((g) => g.name === r.name));
  if (still.length === 0) return [];
  const presence = registryPresence(stores.remote);
  return targetIssues(new ImageWalker(stores.content, presence, new Set()), stores.remote, presence, target);
}

interface RegistryPresence extends BlobPresence {
  /** Blobs found there so far. */
  found(): number;
}

/** Presence in the repository itself (HEAD), asked once per blob; never a replica's cache. */
function registryPresence(remote: RemoteBlobs): RegistryPresence {
  const sizes = new Map<string, Promise<number | undefined>>();
  const here = new Set<string>();
  return {
    corrupt: new Set(),
    size(digest) {
      let size = sizes.get(digest);
      if (!size) {
        size = remote.stat(digest).then((s) => {
          if (s !== undefined) here.add(digest);
          return s;
        });
        sizes.set(digest, size);
      }
      return size;
    },
    found: () => here.size,
  };
}

async function edgesByParent(metadata: MetadataStore): Promise<Map<string, Set<string>>> {
  const stored = new Map<string, Set<string>>();
  for (const { parent, child } of await metadata.listBlobEdges()) {
    const children = stored.get(parent) ?? new Set<string>();
    children.add(child);
    stored.set(parent, children);
  }
  return stored;
}

function sameSet(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): boolean {
  return a !== undefined && a.size === b.size && [...a].every((x) => b.has(x));
}

/** One note per replica whose leases have lapsed (it died, or lost the database, with writes in flight). */
function lapsedLeases(rows: ReadonlyArray<{ owner: string; expiresAt: Date; live: boolean }>): string[] {
  const byOwner = new Map<string, { count: number; last: Date }>();
  for (const row of rows) {
    if (row.live) continue;
    const seen = byOwner.get(row.owner) ?? { count: 0, last: row.expiresAt };
    seen.count++;
    if (row.expiresAt > seen.last) seen.last = row.expiresAt;
    byOwner.set(row.owner, seen);
  }
  return [...byOwner].map(
    ([owner, { count, last }]) =>
      `replica ${owner}: ${count} lease(s) lapsed since ${last.toISOString()} (it stopped renewing them); what they held no longer keeps anything`,
  );
}

export interface ClusterLocation {
  metadataUrl: string;
  blobStore: BlobStoreSettings;
  registry: RegistrySettings | undefined;
}

/** Where a cluster check reads, for its summary line (no credentials). */
export function describeCluster(where: ClusterLocation): string {
  return `PostgreSQL at ${describeDatabase(where.metadataUrl)} and registry://${where.blobStore.location.host}/${where.blobStore.location.repository}`;
}

/**
 * Opens the cluster's stores as a replica would (the registry with the daemon's registry options
 * and the blob store's credentials; reads verified through a cache of its own in a temporary
 * folder, removed after), checks, and closes them.
 */
export async function checkCluster(where: ClusterLocation): Promise<ClusterCheckResult> {
  const metadata = await PostgresMetadataStore.open(where.metadataUrl);
  const tables = new PostgresCheckReads(where.metadataUrl);
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'ladingd-check-'));
  try {
    const cache = new BlobCache(cacheDir, 256 * 1024 * 1024);
    await cache.init();
    const { location, auth } = where.blobStore;
    const remote = new RegistryBlobs(new RegistryService(where.registry ?? {}), location, auth);
    return await checkClusterStores({ metadata, content: new RegistryContentStore(remote, cache), remote, tables });
  } finally {
    await tables.close();
    await metadata.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}
