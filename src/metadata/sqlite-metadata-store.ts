import Database from 'better-sqlite3';
import { NoSpaceError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { BlobEdge, BlobSource, ImageRecord, LayerFacts, MetadataStore } from './metadata-store.js';
import type { SpaceReserve } from './space-reserve.js';

/**
 * PRAGMA user_version. 1 (written as 0 by the first releases): images and layers. 2: the blob
 * graph (`blob_edges`) and the facts of targets (`target_facts`); a data root of schema 1 gets the
 * tables on open, and the edges from one walk of its images (`graphBuilt`, image-service.ts).
 */
export const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS images (
  name          TEXT PRIMARY KEY,
  target_digest TEXT NOT NULL,
  target        TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS images_by_target ON images (target_digest);
CREATE TABLE IF NOT EXISTS layers (
  digest        TEXT PRIMARY KEY,
  diff_id       TEXT NOT NULL,
  unpacked_size INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_sources (
  digest        TEXT NOT NULL,
  registry      TEXT NOT NULL,
  repository    TEXT NOT NULL,
  PRIMARY KEY (digest, registry, repository)
);
CREATE TABLE IF NOT EXISTS blob_edges (
  parent        TEXT NOT NULL,
  child         TEXT NOT NULL,
  PRIMARY KEY (parent, child)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_edges_by_child ON blob_edges (child, parent);
-- A rowid table: its rows (about 1 kB of JSON) are too large to sit well in a WITHOUT ROWID b-tree.
CREATE TABLE IF NOT EXISTS target_facts (
  digest        TEXT PRIMARY KEY,
  key           TEXT NOT NULL,
  facts         TEXT NOT NULL
);
`;

/** Blobs that reach `@digest` through the graph, itself included; none passes upwards through a blob of the JSON array `@detached`. */
const UPWARDS = `
WITH RECURSIVE up(d) AS (
  SELECT @digest
  UNION
  SELECT e.parent FROM blob_edges e JOIN up ON e.child = up.d WHERE up.d NOT IN (SELECT value FROM json_each(@detached))
)`;

/** Every blob an image target reaches, never entering a blob of the JSON array `@detached` below a target. */
const DOWNWARDS = `
WITH RECURSIVE down(d) AS (
  SELECT target_digest FROM images
  UNION
  SELECT e.child FROM blob_edges e JOIN down ON e.parent = down.d WHERE e.child NOT IN (SELECT value FROM json_each(@detached))
)`;

/** Sorts after every character a stored name can hold: the upper bound of a name range. */
const RANGE_END = '\u{10FFFF}';

interface ImageRow {
  name: string;
  target: string;
  created_at: string;
  updated_at: string;
}

export interface SqliteMetadataOptions {
  /** Space a removal may take when the disk is full (space-reserve.ts); the daemon's store has one. */
  reserve?: SpaceReserve;
  /** Opens an existing file for reading only. */
  readonly?: boolean;
}

/** The default metadata store: one SQLite file in WAL mode, written with full sync. */
export class SqliteMetadataStore implements MetadataStore {
  private readonly db: Database.Database;
  private readonly reserve: SpaceReserve | undefined;
  private changes = 0;
  private readonly stmt;
  private built: boolean;
  private factsDropped = 0;

  /**
   * `readonly`: a reader beside the daemon that owns the file (`ladingd check` while it runs). WAL lets
   * it read committed states while the daemon writes; it changes nothing, the schema included.
   */
  constructor(
    private readonly file: string,
    options: SqliteMetadataOptions = {},
  ) {
    this.reserve = options.reserve;
    this.db = new Database(file, options.readonly ? { readonly: true, fileMustExist: true } : {});
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
    }
    this.db.pragma('busy_timeout = 5000');
    const existing = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'images'").get() !== undefined;
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`${file}: metadata schema ${version} is newer than this ladingd's (${SCHEMA_VERSION})`);
    if (options.readonly && version < SCHEMA_VERSION) throw new Error(`${file}: metadata schema ${version} is older than this ladingd's (${SCHEMA_VERSION}); its daemon upgrades it at start`);
    if (!options.readonly) this.db.exec(SCHEMA);
    // A new store, or an old one without images, has its (empty) graph already.
    this.built = version >= SCHEMA_VERSION || !existing || this.db.prepare('SELECT 1 FROM images LIMIT 1').get() === undefined;
    if (this.built && version < SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    this.reserve?.restore();
    this.stmt = {
      get: this.db.prepare<[string], ImageRow>('SELECT name, target, created_at, updated_at FROM images WHERE name = ?'),
      list: this.db.prepare<[], ImageRow>('SELECT name, target, created_at, updated_at FROM images ORDER BY name'),
      byTarget: this.db.prepare<[string], ImageRow>(
        'SELECT name, target, created_at, updated_at FROM images WHERE target_digest = ? ORDER BY name',
      ),
      byPrefix: this.db.prepare<[string, string, number], { target_digest: string }>(
        'SELECT DISTINCT target_digest FROM images WHERE target_digest >= ? AND target_digest < ? LIMIT ?',
      ),
      withPrefix: this.db.prepare<[string, string], ImageRow>(
        'SELECT name, target, created_at, updated_at FROM images WHERE name >= ? AND name < ? ORDER BY name',
      ),
      putEdge: this.db.prepare<[string, string]>('INSERT OR IGNORE INTO blob_edges (parent, child) VALUES (?, ?)'),
      reachable: this.db.prepare<[{ digest: string; detached: string }], { hit: number }>(
        `${UPWARDS} SELECT EXISTS (SELECT 1 FROM up JOIN images ON images.target_digest = up.d) AS hit`,
      ),
      reachableAll: this.db.prepare<[{ detached: string }], { d: string }>(`${DOWNWARDS} SELECT d FROM down`),
      ancestors: this.db.prepare<[{ digest: string; detached: string }], { d: string }>(`${UPWARDS} SELECT d FROM up`),
      deleteEdges: this.db.prepare<[string]>('DELETE FROM blob_edges WHERE parent = ?'),
      parents: this.db.prepare<[string], { parent: string }>('SELECT parent FROM blob_edges WHERE child = ?'),
      listEdges: this.db.prepare<[], BlobEdge>('SELECT parent, child FROM blob_edges ORDER BY parent, child'),
      getFacts: this.db.prepare<[string, string], { digest: string; facts: string }>(
        'SELECT digest, facts FROM target_facts WHERE key = ? AND digest IN (SELECT value FROM json_each(?))',
      ),
      putFacts: this.db.prepare<[string, string, string]>('INSERT OR REPLACE INTO target_facts (digest, key, facts) VALUES (?, ?, ?)'),
      deleteFacts: this.db.prepare<[string]>('DELETE FROM target_facts WHERE digest = ?'),
      clearFacts: this.db.prepare('DELETE FROM target_facts'),
      countTargets: this.db.prepare<[], { n: number }>('SELECT count(DISTINCT target_digest) AS n FROM images'),
      put: this.db.prepare(
        `INSERT INTO images (name, target_digest, target, created_at, updated_at) VALUES (@name, @digest, @target, @createdAt, @updatedAt)
         ON CONFLICT (name) DO UPDATE SET target_digest = excluded.target_digest, target = excluded.target, updated_at = excluded.updated_at`,
      ),
      delete: this.db.prepare<[string]>('DELETE FROM images WHERE name = ?'),
      putLayer: this.db.prepare(
        'INSERT OR REPLACE INTO layers (digest, diff_id, unpacked_size) VALUES (@digest, @diffId, @unpackedSize)',
      ),
      getLayer: this.db.prepare<[string], { digest: string; diff_id: string; unpacked_size: number }>(
        'SELECT digest, diff_id, unpacked_size FROM layers WHERE digest = ?',
      ),
      deleteLayer: this.db.prepare<[string]>('DELETE FROM layers WHERE digest = ?'),
      putSource: this.db.prepare('INSERT OR IGNORE INTO blob_sources (digest, registry, repository) VALUES (@digest, @registry, @repository)'),
      getSources: this.db.prepare<[string], BlobSource>('SELECT digest, registry, repository FROM blob_sources WHERE digest = ? ORDER BY rowid'),
      deleteSources: this.db.prepare<[string]>('DELETE FROM blob_sources WHERE digest = ?'),
      listLayers: this.db.prepare<[], { digest: string; diff_id: string; unpacked_size: number }>(
        'SELECT digest, diff_id, unpacked_size FROM layers ORDER BY digest',
      ),
    };
  }

  get generation(): number {
    return this.changes;
  }

  getImage(name: string): ImageRecord | undefined {
    const row = this.stmt.get.get(name);
    return row && toRecord(row);
  }

  listImages(): ImageRecord[] {
    return this.stmt.list.all().map(toRecord);
  }

  imagesWithPrefix(prefix: string): ImageRecord[] {
    return this.stmt.withPrefix.all(prefix, prefix + RANGE_END).map(toRecord);
  }

  imagesByTarget(digest: string): ImageRecord[] {
    return this.stmt.byTarget.all(digest).map(toRecord);
  }

  targetsByPrefix(hexPrefix: string, limit: number): string[] {
    // A range scan on the target index: every digest starting with the prefix sorts between these.
    const low = `sha256:${hexPrefix}`;
    const high = `sha256:${hexPrefix}\uffff`;
    return this.stmt.byPrefix.all(low, high, limit).map((row) => row.target_digest);
  }

  countTargets(): number {
    return this.stmt.countTargets.get()?.n ?? 0;
  }

  putImage(record: ImageRecord): void {
    this.write(() => this.stmt.put.run({
      name: record.name,
      digest: record.target.digest,
      target: JSON.stringify(record.target),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    }));
    this.changes++;
  }

  deleteImage(name: string): boolean {
    const deleted = this.removal(() => this.stmt.delete.run(name).changes > 0);
    if (deleted) this.changes++;
    return deleted;
  }

  putLayerFacts(facts: LayerFacts): void {
    this.write(() => this.stmt.putLayer.run(facts));
  }

  getLayerFacts(digest: string): LayerFacts | undefined {
    const row = this.stmt.getLayer.get(digest);
    return row && { digest: row.digest, diffId: row.diff_id, unpackedSize: row.unpacked_size };
  }

  deleteLayerFacts(digest: string): void {
    this.removal(() => this.stmt.deleteLayer.run(digest));
  }

  listLayerFacts(): LayerFacts[] {
    return this.stmt.listLayers.all().map((row) => ({ digest: row.digest, diffId: row.diff_id, unpackedSize: row.unpacked_size }));
  }

  // Asynchronous as the role is (blob-sources.ts); SQLite answers at once.
  async addBlobSources(sources: readonly BlobSource[]): Promise<void> {
    if (sources.length === 0) return;
    this.transaction(() => {
      for (const source of sources) this.stmt.putSource.run(source);
    });
    // A push's sources change what inspect's and the list's `Identity` say (API 1.53+).
    this.changes++;
  }

  async blobSources(digest: string): Promise<BlobSource[]> {
    return this.stmt.getSources.all(digest);
  }

  async deleteBlobSources(digest: string): Promise<void> {
    this.removal(() => this.stmt.deleteSources.run(digest));
  }

  putBlobEdges(edges: readonly BlobEdge[]): void {
    this.transaction(() => {
      for (const e of edges) this.stmt.putEdge.run(e.parent, e.child);
    });
  }

  isBlobReachable(digest: string, detached?: ReadonlySet<string>): boolean {
    return this.stmt.reachable.get({ digest, detached: JSON.stringify([...(detached ?? [])]) })?.hit === 1;
  }

  reachableBlobs(detached?: ReadonlySet<string>): Set<string> {
    return new Set(this.stmt.reachableAll.all({ detached: JSON.stringify([...(detached ?? [])]) }).map((row) => row.d));
  }

  blobAncestors(digest: string): string[] {
    return this.stmt.ancestors.all({ digest, detached: '[]' }).map((row) => row.d);
  }

  forgetBlob(digest: string): void {
    this.factsDropped++;
    this.removal(() => {
      for (const d of this.blobAncestors(digest)) this.stmt.deleteFacts.run(d);
      this.stmt.deleteEdges.run(digest);
    });
  }

  blobParents(digest: string): string[] {
    return this.stmt.parents.all(digest).map((row) => row.parent);
  }

  listBlobEdges(): BlobEdge[] {
    return this.stmt.listEdges.all();
  }

  deleteBlobEdges(parent: string): void {
    this.removal(() => this.stmt.deleteEdges.run(parent));
  }

  get graphBuilt(): boolean {
    return this.built;
  }

  markGraphBuilt(): void {
    this.write(() => this.db.pragma(`user_version = ${SCHEMA_VERSION}`));
    this.built = true;
  }

  getTargetFacts(digests: readonly string[], key: string): Map<string, string> {
    return new Map(this.stmt.getFacts.all(key, JSON.stringify(digests)).map((row) => [row.digest, row.facts]));
  }

  putTargetFacts(digest: string, key: string, json: string): void {
    this.write(() => this.stmt.putFacts.run(digest, key, json));
  }

  clearTargetFacts(): void {
    this.factsDropped++;
    this.removal(() => this.stmt.clearFacts.run());
  }

  get factsEpoch(): number {
    return this.factsDropped;
  }

  transaction<T>(fn: () => T): T {
    return this.write(() => this.db.transaction(fn)());
  }

  removal<T>(fn: () => T): T {
    return this.write(() => this.db.transaction(fn)(), true);
  }

  /**
   * Runs a write, atomically. A full disk fails it with a NoSpaceError, unless it only removes:
   * then the reserve is released and it runs once more. Writes nested in a transaction are the
   * outer one's to judge.
   */
  private write<T>(fn: () => T, removes = false): T {
    if (this.db.inTransaction) return fn();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (!removes || !this.reserve?.release()) throw new NoSpaceError(this.file, { cause: err });
      try {
        result = fn();
      } catch (again) {
        throw isDiskFull(again) ? new NoSpaceError(this.file, { cause: again }) : again;
      }
    }
    // Once blobs have gone and the disk has room again, the next write brings the reserve back.
    if (this.reserve && !this.reserve.held) this.reserve.restore();
    return result;
  }

  close(): void {
    this.db.close();
  }
}

/** SQLITE_FULL: SQLite's word for ENOSPC (or for a database at its page limit, which Lading never sets). */
function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE';
}

/**
 * Parsed targets by their JSON, so that the records of an image read again and again (lists of the
 * same images) share one descriptor: nothing re-parsed, and what is rendered from it once (the
 * list's Descriptor) is found by identity. Descriptors are never changed in place.
 */
const TARGETS = new Map<string, Descriptor>();
const TARGETS_MAX = 10_000;

function parseTarget(json: string): Descriptor {
  let target = TARGETS.get(json);
  if (!target) {
    target = JSON.parse(json) as Descriptor;
    if (TARGETS.size >= TARGETS_MAX) TARGETS.delete(TARGETS.keys().next().value as string);
    TARGETS.set(json, target);
  }
  return target;
}

function toRecord(row: ImageRow): ImageRecord {
  return {
    name: row.name,
    target: parseTarget(row.target),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
