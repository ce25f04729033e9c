import type { BlobEdge } from './blob-graph.js';
import type { BlobSource } from './blob-sources.js';
import type { ImageRecord } from './image-records.js';
import type { LayerFacts } from './layer-facts-store.js';
import type { MetadataRoles, MetadataTx } from './metadata-transaction.js';
import type { TargetPageQuery, TargetRow } from './target-pages.js';
import { toLayerFacts, toRecord, type Statements } from './sqlite-statements.js';

/** Sorts after every character a stored name can hold: the upper bound of a name range. */
const RANGE_END = '\u{10FFFF}';

/** What a write changed that the store keeps in memory; applied once it commits. */
export interface Changes {
  records: number;
  factsDropped: number;
  graphBuilt: boolean;
}

export function noChanges(): Changes {
  return { records: 0, factsDropped: 0, graphBuilt: false };
}

export function addChanges(into: Changes, from: Changes): void {
  into.records += from.records;
  into.factsDropped += from.factsDropped;
  into.graphBuilt ||= from.graphBuilt;
}

/** The committed state kept in memory, shared by a store and its transactions. */
export interface Committed {
  generation: number;
  factsEpoch: number;
  graphBuilt: boolean;
}

/**
 * The metadata roles over SQLite statements, written once for the store (reads of committed data,
 * each write a transaction of its own) and for a transaction (reads and writes on its connection):
 * the subclass says where reads go and how a write is made atomic. The statements are
 * synchronous; every method resolves at once.
 */
export abstract class SqliteRoles implements MetadataRoles {
  constructor(protected readonly committed: Committed) {}

  /** The statements a read runs on. */
  protected abstract reads(): Statements;
  /** Runs `fn`'s reads in one read transaction (or the transaction this is), so they see one commit. */
  protected abstract readConsistently<T>(fn: () => T): T;
  /** Runs the statements of one write atomically, counting what it changed. */
  protected abstract write<T>(removes: boolean, fn: (s: Statements, changes: Changes) => T): Promise<T>;
  abstract transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T>;
  abstract removal<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T>;

  get generation(): number {
    return this.committed.generation;
  }

  get factsEpoch(): number {
    return this.committed.factsEpoch;
  }

  get graphBuilt(): boolean {
    return this.committed.graphBuilt;
  }

  async getImage(name: string): Promise<ImageRecord | undefined> {
    const row = this.reads().get.get(name);
    return row && toRecord(row);
  }

  async listImages(): Promise<ImageRecord[]> {
    return this.reads().list.all().map(toRecord);
  }

  async imagesWithPrefix(prefix: string): Promise<ImageRecord[]> {
    return this.reads().withPrefix.all(prefix, prefix + RANGE_END).map(toRecord);
  }

  async imagesByTarget(digest: string): Promise<ImageRecord[]> {
    return this.reads().byTarget.all(digest).map(toRecord);
  }

  async targetsByPrefix(hexPrefix: string, limit: number): Promise<string[]> {
    // A range scan on the target index: every digest starting with the prefix sorts between these.
    return this.reads().byPrefix.all(`sha256:${hexPrefix}`, `sha256:${hexPrefix}\uffff`, limit).map((row) => row.target_digest);
  }

  async countTargets(): Promise<number> {
    return this.reads().countTargets.get()?.n ?? 0;
  }

  putImage(record: ImageRecord): Promise<void> {
    return this.write(false, (s, changes) => {
      s.put.run({
        name: record.name,
        digest: record.target.digest,
        target: JSON.stringify(record.target),
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
      });
      changes.records++;
    });
  }

  deleteImage(name: string): Promise<boolean> {
    return this.write(true, (s, changes) => {
      const deleted = s.delete.run(name).changes > 0;
      if (deleted) changes.records++;
      return deleted;
    });
  }

  putLayerFacts(facts: LayerFacts): Promise<void> {
    return this.write(false, (s) => void s.putLayer.run(facts));
  }

  async getLayerFacts(digest: string): Promise<LayerFacts | undefined> {
    const row = this.reads().getLayer.get(digest);
    return row && toLayerFacts(row);
  }

  deleteLayerFacts(digest: string): Promise<void> {
    return this.write(true, (s) => void s.deleteLayer.run(digest));
  }

  async listLayerFacts(): Promise<LayerFacts[]> {
    return this.reads().listLayers.all().map(toLayerFacts);
  }

  async addBlobSources(sources: readonly BlobSource[]): Promise<void> {
    if (sources.length === 0) return;
    await this.write(false, (s, changes) => {
      for (const source of sources) s.putSource.run(source);
      // A push's sources change what inspect's and the list's `Identity` say (API 1.53+).
      changes.records++;
    });
  }

  async blobSources(digest: string): Promise<BlobSource[]> {
    return this.reads().getSources.all(digest);
  }

  deleteBlobSources(digest: string): Promise<void> {
    return this.write(true, (s) => void s.deleteSources.run(digest));
  }

  putBlobEdges(edges: readonly BlobEdge[]): Promise<void> {
    return this.write(false, (s) => {
      for (const e of edges) s.putEdge.run(e.parent, e.child);
    });
  }

  async isBlobReachable(digest: string, detached?: ReadonlySet<string>): Promise<boolean> {
    return this.reads().reachable.get({ digest, detached: JSON.stringify([...(detached ?? [])]) })?.hit === 1;
  }

  async reachableBlobs(detached?: ReadonlySet<string>): Promise<Set<string>> {
    return new Set(this.reads().reachableAll.all({ detached: JSON.stringify([...(detached ?? [])]) }).map((row) => row.d));
  }

  async blobAncestors(digest: string): Promise<string[]> {
    return this.reads().ancestors.all({ digest, detached: '[]' }).map((row) => row.d);
  }

  forgetBlob(digest: string): Promise<void> {
    return this.write(true, (s, changes) => {
      for (const row of s.ancestors.all({ digest, detached: '[]' })) s.deleteFacts.run(row.d);
      s.deleteEdges.run(digest);
      changes.factsDropped++;
    });
  }

  async blobParents(digest: string): Promise<string[]> {
    return this.reads().parents.all(digest).map((row) => row.parent);
  }

  async listBlobEdges(): Promise<BlobEdge[]> {
    return this.reads().listEdges.all();
  }

  deleteBlobEdges(parent: string): Promise<void> {
    return this.write(true, (s) => void s.deleteEdges.run(parent));
  }

  markGraphBuilt(): Promise<void> {
    return this.write(false, (s, changes) => {
      s.markGraphBuilt.run();
      changes.graphBuilt = true;
    });
  }

  async getTargetFacts(digests: readonly string[], key: string): Promise<Map<string, string>> {
    return new Map(this.reads().getFacts.all(key, JSON.stringify(digests)).map((row) => [row.digest, row.facts]));
  }

  putTargetFacts(digest: string, key: string, json: string, row?: TargetRow): Promise<void> {
    return this.write(false, (s) => void s.putFacts.run(digest, key, json, row?.created ?? null, row?.json ?? null));
  }

  async pageTargets(query: TargetPageQuery): Promise<{ total: number; digests: string[] }> {
    const pages = this.reads().pages[query.dangling === undefined ? 'any' : query.dangling ? 'dangling' : 'named'];
    const { key, offset, limit } = query;
    // Both in one read transaction: the total is that of the page's moment.
    return this.readConsistently(() => {
      const digests = pages.page.all({ key, limit, offset }).map((r) => r.digest);
      // A page that ends short ends the list (unless it starts past the end): no count needed.
      const ended = digests.length < limit && (digests.length > 0 || offset === 0);
      if (ended) return { total: offset + digests.length, digests };
      return { total: query.count === false ? -1 : (pages.total.get({ key })?.n ?? 0), digests };
    });
  }

  async targetsWithoutRows(key: string): Promise<string[]> {
    return this.reads().withoutRows.all(key).map((r) => r.digest);
  }

  async getTargetRows(digests: readonly string[], key: string): Promise<Map<string, string>> {
    return new Map(this.reads().getRows.all(key, JSON.stringify(digests)).map((r) => [r.digest, r.row]));
  }

  async targetNames(): Promise<Array<{ name: string; digest: string }>> {
    return this.reads().targetNames.all();
  }

  clearTargetFacts(): Promise<void> {
    return this.write(true, (s, changes) => {
      s.clearFacts.run();
      changes.factsDropped++;
    });
  }
}
