import Database from 'better-sqlite3';
import type { Descriptor } from '../oci/types.js';
import type { BlobSource, ImageRecord, LayerFacts, MetadataStore } from './metadata-store.js';

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
`;

interface ImageRow {
  name: string;
  target: string;
  created_at: string;
  updated_at: string;
}

/** The default metadata store: one SQLite file in WAL mode, written with full sync. */
export class SqliteMetadataStore implements MetadataStore {
  private readonly db: Database.Database;
  private changes = 0;
  private readonly stmt;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmt = {
      get: this.db.prepare<[string], ImageRow>('SELECT name, target, created_at, updated_at FROM images WHERE name = ?'),
      list: this.db.prepare<[], ImageRow>('SELECT name, target, created_at, updated_at FROM images ORDER BY name'),
      byTarget: this.db.prepare<[string], ImageRow>(
        'SELECT name, target, created_at, updated_at FROM images WHERE target_digest = ? ORDER BY name',
      ),
      byPrefix: this.db.prepare<[string, string, number], { target_digest: string }>(
        'SELECT DISTINCT target_digest FROM images WHERE target_digest >= ? AND target_digest < ? LIMIT ?',
      ),
      count: this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM images'),
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

  imagesByTarget(digest: string): ImageRecord[] {
    return this.stmt.byTarget.all(digest).map(toRecord);
  }

  targetsByPrefix(hexPrefix: string, limit: number): string[] {
    // A range scan on the target index: every digest starting with the prefix sorts between these.
    const low = `sha256:${hexPrefix}`;
    const high = `sha256:${hexPrefix}\uffff`;
    return this.stmt.byPrefix.all(low, high, limit).map((row) => row.target_digest);
  }

  countImages(): number {
    return this.stmt.count.get()?.n ?? 0;
  }

  putImage(record: ImageRecord): void {
    this.stmt.put.run({
      name: record.name,
      digest: record.target.digest,
      target: JSON.stringify(record.target),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    });
    this.changes++;
  }

  deleteImage(name: string): boolean {
    const deleted = this.stmt.delete.run(name).changes > 0;
    if (deleted) this.changes++;
    return deleted;
  }

  putLayerFacts(facts: LayerFacts): void {
    this.stmt.putLayer.run(facts);
  }

  getLayerFacts(digest: string): LayerFacts | undefined {
    const row = this.stmt.getLayer.get(digest);
    return row && { digest: row.digest, diffId: row.diff_id, unpackedSize: row.unpacked_size };
  }

  deleteLayerFacts(digest: string): void {
    this.stmt.deleteLayer.run(digest);
  }

  listLayerFacts(): LayerFacts[] {
    return this.stmt.listLayers.all().map((row) => ({ digest: row.digest, diffId: row.diff_id, unpackedSize: row.unpacked_size }));
  }

  addBlobSources(sources: readonly BlobSource[]): void {
    if (sources.length === 0) return;
    this.db.transaction(() => {
      for (const source of sources) this.stmt.putSource.run(source);
    })();
  }

  blobSources(digest: string): BlobSource[] {
    return this.stmt.getSources.all(digest);
  }

  deleteBlobSources(digest: string): void {
    this.stmt.deleteSources.run(digest);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}

function toRecord(row: ImageRow): ImageRecord {
  return {
    name: row.name,
    target: JSON.parse(row.target) as Descriptor,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
