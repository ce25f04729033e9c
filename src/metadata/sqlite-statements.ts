import type Database from 'better-sqlite3';
import { parseTarget } from './image-targets.js';
import type { BlobEdge } from './blob-graph.js';
import type { BlobSource } from './blob-sources.js';
import type { ImageRecord } from './image-records.js';
import type { LayerFacts } from './layer-facts-store.js';

/**
 * PRAGMA user_version. 1 (written as 0 by the first releases): images and layers. 2: the blob
 * graph (`blob_edges`) and the facts of targets (`target_facts`); a data root of schema 1 gets the
 * tables on open, and the edges from one walk of its images (`graphBuilt`, image-service.ts).
 * 3: the list's rows beside the facts (`created`, `row`: target-pages.ts), added and filled from
 * the stored facts on open (sqlite-migrations.ts).
 */
export const SCHEMA_VERSION = 3;
/** From this version on, the blob graph is built. */
export const GRAPH_VERSION = 2;

export const SCHEMA = `
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
  facts         TEXT NOT NULL,
  created       INTEGER,
  row           TEXT
);
`;

/**
 * The page's order, read from the index alone; and which targets have a row, without reading the
 * rows (700 ms at 100,000 targets, 90 ms so). Created after the columns exist: sqlite-migrations.ts.
 */
export const PAGE_INDEXES = `
CREATE INDEX IF NOT EXISTS target_facts_page ON target_facts (key, created DESC, digest) WHERE row IS NOT NULL;
CREATE INDEX IF NOT EXISTS target_facts_rows ON target_facts (digest, key) WHERE row IS NOT NULL;
`;

/** Targets named by a record (of the kind asked for) that have a row under @key. */
const PAGEABLE = (named: string) => `FROM target_facts t WHERE t.key = @key AND t.row IS NOT NULL
  AND EXISTS (SELECT 1 FROM images i WHERE i.target_digest = t.digest${named})`;
const NAMED = { any: '', dangling: " AND i.name = 'moby-dangling@' || t.digest", named: " AND i.name <> 'moby-dangling@' || t.digest" };

function pageStatements(db: Database.Database, named: string) {
  return {
    page: db.prepare<[{ key: string; limit: number; offset: number }], { digest: string }>(
      `SELECT t.digest ${PAGEABLE(named)} ORDER BY t.created DESC, t.digest LIMIT @limit OFFSET @offset`,
    ),
    total: db.prepare<[{ key: string }], { n: number }>(`SELECT count(*) AS n ${PAGEABLE(named)}`),
  };
}

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

export interface ImageRow {
  name: string;
  target: string;
  created_at: string;
  updated_at: string;
}

interface LayerRow {
  digest: string;
  diff_id: string;
  unpacked_size: number;
}

/** Every statement of the store, prepared on one connection (the write one, or the one reading outside transactions). */
export function prepareStatements(db: Database.Database) {
  return {
    get: db.prepare<[string], ImageRow>('SELECT name, target, created_at, updated_at FROM images WHERE name = ?'),
    list: db.prepare<[], ImageRow>('SELECT name, target, created_at, updated_at FROM images ORDER BY name'),
    byTarget: db.prepare<[string], ImageRow>('SELECT name, target, created_at, updated_at FROM images WHERE target_digest = ? ORDER BY name'),
    byPrefix: db.prepare<[string, string, number], { target_digest: string }>(
      'SELECT DISTINCT target_digest FROM images WHERE target_digest >= ? AND target_digest < ? LIMIT ?',
    ),
    withPrefix: db.prepare<[string, string], ImageRow>(
      'SELECT name, target, created_at, updated_at FROM images WHERE name >= ? AND name < ? ORDER BY name',
    ),
    putEdge: db.prepare<[string, string]>('INSERT OR IGNORE INTO blob_edges (parent, child) VALUES (?, ?)'),
    reachable: db.prepare<[{ digest: string; detached: string }], { hit: number }>(
      `${UPWARDS} SELECT EXISTS (SELECT 1 FROM up JOIN images ON images.target_digest = up.d) AS hit`,
    ),
    reachableAll: db.prepare<[{ detached: string }], { d: string }>(`${DOWNWARDS} SELECT d FROM down`),
    ancestors: db.prepare<[{ digest: string; detached: string }], { d: string }>(`${UPWARDS} SELECT d FROM up`),
    deleteEdges: db.prepare<[string]>('DELETE FROM blob_edges WHERE parent = ?'),
    parents: db.prepare<[string], { parent: string }>('SELECT parent FROM blob_edges WHERE child = ?'),
    listEdges: db.prepare<[], BlobEdge>('SELECT parent, child FROM blob_edges ORDER BY parent, child'),
    getFacts: db.prepare<[string, string], { digest: string; facts: string }>(
      'SELECT digest, facts FROM target_facts WHERE key = ? AND digest IN (SELECT value FROM json_each(?))',
    ),
    putFacts: db.prepare<[string, string, string, number | null, string | null]>(
      'INSERT OR REPLACE INTO target_facts (digest, key, facts, created, row) VALUES (?, ?, ?, ?, ?)',
    ),
    pages: { any: pageStatements(db, NAMED.any), dangling: pageStatements(db, NAMED.dangling), named: pageStatements(db, NAMED.named) },
    withoutRows: db.prepare<[string], { digest: string }>(
      `SELECT DISTINCT target_digest AS digest FROM images i
       WHERE NOT EXISTS (SELECT 1 FROM target_facts t INDEXED BY target_facts_rows WHERE t.digest = i.target_digest AND t.key = ? AND t.row IS NOT NULL)`,
    ),
    getRows: db.prepare<[string, string], { digest: string; row: string }>(
      'SELECT digest, row FROM target_facts WHERE key = ? AND row IS NOT NULL AND digest IN (SELECT value FROM json_each(?))',
    ),
    targetNames: db.prepare<[], { name: string; digest: string }>('SELECT name, target_digest AS digest FROM images ORDER BY target_digest, name'),
    deleteFacts: db.prepare<[string]>('DELETE FROM target_facts WHERE digest = ?'),
    clearFacts: db.prepare('DELETE FROM target_facts'),
    countTargets: db.prepare<[], { n: number }>('SELECT count(DISTINCT target_digest) AS n FROM images'),
    put: db.prepare<[{ name: string; digest: string; target: string; createdAt: string; updatedAt: string }]>(
      `INSERT INTO images (name, target_digest, target, created_at, updated_at) VALUES (@name, @digest, @target, @createdAt, @updatedAt)
       ON CONFLICT (name) DO UPDATE SET target_digest = excluded.target_digest, target = excluded.target, updated_at = excluded.updated_at`,
    ),
    delete: db.prepare<[string]>('DELETE FROM images WHERE name = ?'),
    putLayer: db.prepare<[LayerFacts]>('INSERT OR REPLACE INTO layers (digest, diff_id, unpacked_size) VALUES (@digest, @diffId, @unpackedSize)'),
    getLayer: db.prepare<[string], LayerRow>('SELECT digest, diff_id, unpacked_size FROM layers WHERE digest = ?'),
    deleteLayer: db.prepare<[string]>('DELETE FROM layers WHERE digest = ?'),
    putSource: db.prepare<[BlobSource]>('INSERT OR IGNORE INTO blob_sources (digest, registry, repository) VALUES (@digest, @registry, @repository)'),
    getSources: db.prepare<[string], BlobSource>('SELECT digest, registry, repository FROM blob_sources WHERE digest = ? ORDER BY rowid'),
    deleteSources: db.prepare<[string]>('DELETE FROM blob_sources WHERE digest = ?'),
    listLayers: db.prepare<[], LayerRow>('SELECT digest, diff_id, unpacked_size FROM layers ORDER BY digest'),
    markGraphBuilt: db.prepare(`PRAGMA user_version = ${SCHEMA_VERSION}`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

export function toLayerFacts(row: LayerRow): LayerFacts {
  return { digest: row.digest, diffId: row.diff_id, unpackedSize: row.unpacked_size };
}

export function toRecord(row: ImageRow): ImageRecord {
  return {
    name: row.name,
    target: parseTarget(row.target),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
