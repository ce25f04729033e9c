import type postgres from 'postgres';
import { CLUSTER_MIGRATIONS } from './cluster-migrations.js';

/**
 * The schema of the metadata on PostgreSQL, as versioned migrations: each runs once, in order, and
 * is recorded in `schema_migrations`. All of them go in the current schema (the first of the
 * connection's search_path), so that one database may hold several Lading installations.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The channel other replicas' changes are announced on: one per schema (change-feed.ts). */
export function changeChannel(schema: string): string {
  return `lading_metadata_${schema}`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'image records, layer facts, blob sources, the blob graph, target facts',
    // COLLATE "C": names and digests compare by bytes, which is name order (image-records.ts).
    sql: `
CREATE TABLE images (
  name          TEXT COLLATE "C" PRIMARY KEY,
  target_digest TEXT COLLATE "C" NOT NULL,
  target        TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX images_by_target ON images (target_digest);
CREATE TABLE layers (
  digest        TEXT COLLATE "C" PRIMARY KEY,
  diff_id       TEXT NOT NULL,
  unpacked_size BIGINT NOT NULL
);
CREATE TABLE blob_sources (
  id            BIGINT GENERATED ALWAYS AS IDENTITY,
  digest        TEXT NOT NULL,
  registry      TEXT NOT NULL,
  repository    TEXT NOT NULL,
  PRIMARY KEY (digest, registry, repository)
);
CREATE TABLE blob_edges (
  parent        TEXT COLLATE "C" NOT NULL,
  child         TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (parent, child)
);
CREATE INDEX blob_edges_by_child ON blob_edges (child, parent);
CREATE TABLE target_facts (
  digest        TEXT PRIMARY KEY,
  key           TEXT NOT NULL,
  facts         TEXT NOT NULL
);

-- Every replica keeps generation and factsEpoch in memory (metadata-store.ts); a committed change
-- is announced to the others here, with the origin (lading.origin, set per connection) so that a
-- replica skips its own. NOTIFY is delivered at commit, never for a rolled-back change, and the
-- same payload once per transaction however many rows it touched.
CREATE FUNCTION lading_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lading_metadata_' || TG_TABLE_SCHEMA, TG_ARGV[0] || ' ' || coalesce(current_setting('lading.origin', true), ''));
  RETURN NULL;
END
$$;
CREATE TRIGGER images_changed AFTER INSERT OR UPDATE OR DELETE ON images
  FOR EACH ROW EXECUTE FUNCTION lading_announce('records');
-- A push's sources change inspect's Identity (API 1.53+), as in the SQLite store.
CREATE TRIGGER blob_sources_added AFTER INSERT ON blob_sources
  FOR EACH ROW EXECUTE FUNCTION lading_announce('records');
CREATE TRIGGER target_facts_dropped AFTER DELETE ON target_facts
  FOR EACH ROW EXECUTE FUNCTION lading_announce('facts');
`,
  },
  ...CLUSTER_MIGRATIONS,
  {
    // 3 is the garbage collector's queue (cluster-migrations.ts).
    version: 4,
    description: "the list's rows beside the target facts, filled from them",
    // The row is the facts without what a page never shows (target-pages.ts, images/list-rows.ts's
    // rowOf); filled here from the stored JSON, in the migration's transaction.
    sql: `
ALTER TABLE target_facts ADD COLUMN created BIGINT, ADD COLUMN row TEXT;
UPDATE target_facts SET created = coalesce((facts::jsonb -> 'best' ->> 'created')::bigint, 0),
  row = (facts::jsonb - 'blobs' - 'chains' - 'complete')::text;
CREATE INDEX target_facts_page ON target_facts (key, created DESC, (digest COLLATE "C")) WHERE row IS NOT NULL;
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Applies the migrations this database lacks, in one transaction holding an advisory lock on the
 * schema's name: two daemons starting at once apply each migration once, the second waiting for
 * the first and then finding nothing to do. A database newer than this ladingd is refused.
 */
export async function migrate(sql: postgres.Sql): Promise<string> {
  return sql.begin(async (tx) => {
    const [row] = await tx<Array<{ schema: string | null }>>`SELECT current_schema() AS schema`;
    const schema = row?.schema;
    if (!schema) throw new Error('the first schema of the search_path does not exist; create it first (CREATE SCHEMA …)');
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`lading schema ${schema}`}, 0))`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    )`;
    const applied = new Set((await tx<Array<{ version: number }>>`SELECT version FROM schema_migrations`).map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > SCHEMA_VERSION) {
      throw new Error(`metadata schema ${newest} in PostgreSQL schema ${schema} is newer than this ladingd's (${SCHEMA_VERSION})`);
    }
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, description) VALUES (${m.version}, ${m.description})`;
    }
    return schema;
  });
}
