import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { MetadataUnavailableError } from '../../errors.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import type { BlobEdge } from '../blob-graph.js';
import type { BlobSource } from '../blob-sources.js';
import type { ImageRecord } from '../image-records.js';
import { parseTarget } from '../image-targets.js';
import type { LayerFacts } from '../layer-facts-store.js';
import type { MetadataStore } from '../metadata-store.js';
import type { MetadataTx } from '../metadata-transaction.js';
import type { TargetPageQuery, TargetRow } from '../target-pages.js';
import { ChangeFeed, type Change } from './change-feed.js';
import { clientOptions } from './postgres-client.js';
import { isRetryable, retrying, translatePostgresError } from './postgres-errors.js';
import { changeChannel, migrate } from './postgres-schema.js';

/** Sorts after every character a stored name can hold: the upper bound of a name range. */
const RANGE_END = '\u{10FFFF}';
/** Attempts of a transaction that lost a race (deadlock, serialization failure) before its error is the caller's. */
const MAX_ATTEMPTS = 5;

export interface PostgresMetadataOptions {
  logger?: Logger;
  /** Connections in the pool (a transaction holds one until it commits). */
  maxConnections?: number;
  /** Seconds to wait for a connection before the request fails with a 503. */
  connectTimeoutSeconds?: number;
}

/** The counters every replica keeps in memory (metadata-store.ts), moved by its commits and by what it hears. */
interface Counters {
  generation: number;
  factsEpoch: number;
  /**
   * The change feed is down: another replica's change would go unheard, so every read of a counter
   * moves it and no cache is trusted until the feed listens again.
   */
  deaf: boolean;
}

/** What a write changed: moved into the counters once it has committed. */
interface Effects {
  records: boolean;
  facts: boolean;
}

/** One transaction or savepoint: its effects (shared with the savepoints inside) and whether its function has settled. */
interface TxScope {
  readonly effects: Effects;
  ended: boolean;
}

interface Shared {
  readonly sql: postgres.Sql;
  readonly counters: Counters;
  /** `host:port/database`, for messages. */
  readonly database: string;
}

type Db = postgres.Sql | postgres.TransactionSql;

interface ImageRow {
  name: string;
  target: string;
  created_at: string;
  updated_at: string;
}

/** Blobs that reach ${digest} through the graph, itself included, never passing upwards through one of ${detached}. */
const upwards = (db: Db, digest: string, detached: readonly string[]) => db`
  WITH RECURSIVE up(d) AS (
    SELECT ${digest}::text COLLATE "C"
    UNION
    SELECT e.parent FROM blob_edges e JOIN up ON e.child = up.d WHERE up.d <> ALL(${detached as string[]}::text[])
  )`;

/**
 * The metadata roles bound to one connection: the pool (each write its own transaction, reads of
 * committed data only) or one transaction (`effects` collects what it changed until its commit).
 */
class PostgresRoles implements MetadataTx {
  constructor(
    protected readonly shared: Shared,
    private readonly db: Db,
    private readonly scope: TxScope | undefined,
  ) {}

  get generation(): number {
    const c = this.shared.counters;
    return c.deaf ? ++c.generation : c.generation;
  }

  get factsEpoch(): number {
    const c = this.shared.counters;
    return c.deaf ? ++c.factsEpoch : c.factsEpoch;
  }

  /** A database on its own has never held a graph-less data root (sqlite-metadata-store.ts, schema 1). */
  get graphBuilt(): boolean {
    return true;
  }

  async markGraphBuilt(): Promise<void> {}

  // ----------------------------------------------------------------------------- image records

  async getImage(name: string): Promise<ImageRecord | undefined> {
    const [row] = await this.read((db) => db<ImageRow[]>`SELECT name, target, created_at, updated_at FROM images WHERE name = ${name}`);
    return row && toRecord(row);
  }

  async listImages(): Promise<ImageRecord[]> {
    return (await this.read((db) => db<ImageRow[]>`SELECT name, target, created_at, updated_at FROM images ORDER BY name`)).map(toRecord);
  }

  async imagesWithPrefix(prefix: string): Promise<ImageRecord[]> {
    const rows = await this.read(
      (db) => db<ImageRow[]>`SELECT name, target, created_at, updated_at FROM images WHERE name >= ${prefix} AND name < ${prefix + RANGE_END} ORDER BY name`,
    );
    return rows.map(toRecord);
  }

  async imagesByTarget(digest: string): Promise<ImageRecord[]> {
    const rows = await this.read(
      (db) => db<ImageRow[]>`SELECT name, target, created_at, updated_at FROM images WHERE target_digest = ${digest} ORDER BY name`,
    );
    return rows.map(toRecord);
  }

  async targetsByPrefix(hexPrefix: string, limit: number): Promise<string[]> {
    // A range scan on the target index: every digest starting with the prefix sorts between these.
    const low = `sha256:${hexPrefix}`;
    const high = `sha256:${hexPrefix}\uffff`;
    const rows = await this.read(
      (db) => db<Array<{ d: string }>>`SELECT DISTINCT target_digest AS d FROM images WHERE target_digest >= ${low} AND target_digest < ${high} LIMIT ${limit}`,
    );
    return rows.map((r) => r.d);
  }

  async countTargets(): Promise<number> {
    const [row] = await this.read((db) => db<Array<{ n: number }>>`SELECT count(DISTINCT target_digest)::int AS n FROM images`);
    return row?.n ?? 0;
  }

  async putImage(record: ImageRecord): Promise<void> {
    await this.write(
      (db) => db`
        INSERT INTO images (name, target_digest, target, created_at, updated_at)
        VALUES (${record.name}, ${record.target.digest}, ${JSON.stringify(record.target)}, ${record.createdAt}, ${record.updatedAt})
        ON CONFLICT (name) DO UPDATE SET target_digest = excluded.target_digest, target = excluded.target, updated_at = excluded.updated_at`,
      () => ({ records: true }),
    );
  }

  async deleteImage(name: string): Promise<boolean> {
    const result = await this.write((db) => db`DELETE FROM images WHERE name = ${name}`, (r) => ({ records: r.count > 0 }));
    return result.count > 0;
  }

  // ------------------------------------------------------------------------------- layer facts

  async putLayerFacts(facts: LayerFacts): Promise<void> {
    await this.write(
      (db) => db`
        INSERT INTO layers (digest, diff_id, unpacked_size) VALUES (${facts.digest}, ${facts.diffId}, ${facts.unpackedSize})
        ON CONFLICT (digest) DO UPDATE SET diff_id = excluded.diff_id, unpacked_size = excluded.unpacked_size`,
    );
  }

  async getLayerFacts(digest: string): Promise<LayerFacts | undefined> {
    const [row] = await this.read((db) => db<LayerRow[]>`SELECT digest, diff_id, unpacked_size FROM layers WHERE digest = ${digest}`);
    return row && toLayerFacts(row);
  }

  async deleteLayerFacts(digest: string): Promise<void> {
    await this.write((db) => db`DELETE FROM layers WHERE digest = ${digest}`);
  }

  async listLayerFacts(): Promise<LayerFacts[]> {
    return (await this.read((db) => db<LayerRow[]>`SELECT digest, diff_id, unpacked_size FROM layers ORDER BY digest`)).map(toLayerFacts);
  }

  // ------------------------------------------------------------------------------ blob sources

  async addBlobSources(sources: readonly BlobSource[]): Promise<void> {
    if (sources.length === 0) return;
    // The identity column keeps the order of first sight: the order a push tries them in.
    await this.write(
      (db) => db`
        INSERT INTO blob_sources (digest, registry, repository)
        SELECT digest, registry, repository
        FROM unnest(${sources.map((s) => s.digest)}::text[], ${sources.map((s) => s.registry)}::text[], ${sources.map((s) => s.repository)}::text[])
          WITH ORDINALITY AS s(digest, registry, repository, n)
        ORDER BY n
        ON CONFLICT DO NOTHING`,
      (r) => ({ records: r.count > 0 }),
    );
  }

  async blobSources(digest: string): Promise<BlobSource[]> {
    const rows = await this.read(
      (db) => db<BlobSource[]>`SELECT digest, registry, repository FROM blob_sources WHERE digest = ${digest} ORDER BY id`,
    );
    return rows.map((r) => ({ digest: r.digest, registry: r.registry, repository: r.repository }));
  }

  async deleteBlobSources(digest: string): Promise<void> {
    await this.write((db) => db`DELETE FROM blob_sources WHERE digest = ${digest}`);
  }

  // -------------------------------------------------------------------------------- blob graph

  async putBlobEdges(edges: readonly BlobEdge[]): Promise<void> {
    if (edges.length === 0) return;
    // In key order: two loads inserting shared edges then wait for each other instead of deadlocking.
    const sorted = [...edges].sort((x, y) => (x.parent === y.parent ? cmp(x.child, y.child) : cmp(x.parent, y.parent)));
    await this.write(
      (db) => db`
        INSERT INTO blob_edges (parent, child)
        SELECT parent, child FROM unnest(${sorted.map((e) => e.parent)}::text[], ${sorted.map((e) => e.child)}::text[]) AS e(parent, child)
        ON CONFLICT DO NOTHING`,
    );
  }

  async isBlobReachable(digest: string, detached?: ReadonlySet<string>): Promise<boolean> {
    const [row] = await this.read(
      (db) => db<Array<{ hit: boolean }>>`${upwards(db, digest, [...(detached ?? [])])}
        SELECT EXISTS (SELECT 1 FROM up JOIN images ON images.target_digest = up.d) AS hit`,
    );
    return row?.hit === true;
  }

  async reachableBlobs(detached?: ReadonlySet<string>): Promise<Set<string>> {
    const rows = await this.read(
      (db) => db<Array<{ d: string }>>`
        WITH RECURSIVE down(d) AS (
          SELECT target_digest FROM images
          UNION
          SELECT e.child FROM blob_edges e JOIN down ON e.parent = down.d WHERE e.child <> ALL(${[...(detached ?? [])]}::text[])
        )
        SELECT d FROM down`,
    );
    return new Set(rows.map((r) => r.d));
  }

  async blobAncestors(digest: string): Promise<string[]> {
    const rows = await this.read((db) => db<Array<{ d: string }>>`${upwards(db, digest, [])} SELECT d FROM up`);
    return rows.map((r) => r.d);
  }

  async forgetBlob(digest: string): Promise<void> {
    // One statement: the facts of every blob above it and the edges out of it go together.
    await this.write(
      (db) => db`${upwards(db, digest, [])}, facts AS (DELETE FROM target_facts WHERE digest IN (SELECT d FROM up))
        DELETE FROM blob_edges WHERE parent = ${digest}`,
      () => ({ facts: true }),
    );
  }

  async blobParents(digest: string): Promise<string[]> {
    return (await this.read((db) => db<Array<{ parent: string }>>`SELECT parent FROM blob_edges WHERE child = ${digest}`)).map((r) => r.parent);
  }

  async listBlobEdges(): Promise<BlobEdge[]> {
    const rows = await this.read((db) => db<BlobEdge[]>`SELECT parent, child FROM blob_edges ORDER BY parent, child`);
    return rows.map((r) => ({ parent: r.parent, child: r.child }));
  }

  async deleteBlobEdges(parent: string): Promise<void> {
    await this.write((db) => db`DELETE FROM blob_edges WHERE parent = ${parent}`);
  }

  // ------------------------------------------------------------------------------ target facts

  async getTargetFacts(digests: readonly string[], key: string): Promise<Map<string, string>> {
    if (digests.length === 0) return new Map();
    const rows = await this.read(
      (db) => db<Array<{ digest: string; facts: string }>>`SELECT digest, facts FROM target_facts WHERE key = ${key} AND digest = ANY(${digests as string[]}::text[])`,
    );
    return new Map(rows.map((r) => [r.digest, r.facts]));
  }

  async putTargetFacts(digest: string, key: string, json: string, row?: TargetRow): Promise<void> {
    const [created, rowJson] = [row?.created ?? null, row?.json ?? null];
    await this.write(
      (db) => db`INSERT INTO target_facts (digest, key, facts, created, row) VALUES (${digest}, ${key}, ${json}, ${created}, ${rowJson})
        ON CONFLICT (digest) DO UPDATE SET key = excluded.key, facts = excluded.facts, created = excluded.created, row = excluded.row`,
    );
  }

  // ------------------------------------------------------------------------------ target pages

  async pageTargets(query: TargetPageQuery): Promise<{ total: number; digests: string[] }> {
    const { key, offset, limit, dangling } = query;
    // One statement: the total and the page of one snapshot.
    const [row] = await this.read((db) => {
      const named =
        dangling === undefined ? db`` : dangling ? db`AND i.name = 'moby-dangling@' || t.digest` : db`AND i.name <> 'moby-dangling@' || t.digest`;
      const pageable = db`FROM target_facts t WHERE t.key = ${key} AND t.row IS NOT NULL
        AND EXISTS (SELECT 1 FROM images i WHERE i.target_digest = t.digest ${named})`;
      const total = query.count === false ? db`-1` : db`(SELECT count(*)::int ${pageable})`;
      // As JSON: the client parses that without fetching the server's array types (postgres-client.ts).
      return db<Array<{ total: number; digests: string[] }>>`SELECT ${total} AS total,
        array_to_json(ARRAY(SELECT t.digest ${pageable} ORDER BY t.created DESC, t.digest COLLATE "C" LIMIT ${limit} OFFSET ${offset})) AS digests`;
    });
    return { total: row?.total ?? 0, digests: row?.digests ?? [] };
  }

  async targetsWithoutRows(key: string): Promise<string[]> {
    const rows = await this.read(
      (db) => db<Array<{ digest: string }>>`SELECT DISTINCT target_digest AS digest FROM images i
        WHERE NOT EXISTS (SELECT 1 FROM target_facts t WHERE t.digest = i.target_digest AND t.key = ${key} AND t.row IS NOT NULL)`,
    );
    return rows.map((r) => r.digest);
  }

  async getTargetRows(digests: readonly string[], key: string): Promise<Map<string, string>> {
    if (digests.length === 0) return new Map();
    const rows = await this.read(
      (db) => db<Array<{ digest: string; row: string }>>`SELECT digest, row FROM target_facts
        WHERE key = ${key} AND row IS NOT NULL AND digest = ANY(${digests as string[]}::text[])`,
    );
    return new Map(rows.map((r) => [r.digest, r.row]));
  }

  async targetNames(): Promise<Array<{ name: string; digest: string }>> {
    const rows = await this.read(
      (db) => db<Array<{ name: string; digest: string }>>`SELECT name, target_digest AS digest FROM images
        ORDER BY target_digest COLLATE "C", name COLLATE "C"`,
    );
    return rows.map((r) => ({ name: r.name, digest: r.digest }));
  }

  async clearTargetFacts(): Promise<void> {
    await this.write((db) => db`DELETE FROM target_facts`, () => ({ facts: true }));
  }

  // ------------------------------------------------------------------------------ transactions

  /**
   * `BEGIN … COMMIT` on a connection of the pool (READ COMMITTED), or a savepoint inside the
   * transaction this is bound to. A top-level transaction that loses a race (deadlock, serialization
   * failure) runs again from the start, so `fn` must not act outside `tx` before it returns.
   */
  async transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    if (this.scope) {
      const tx = this.db as postgres.TransactionSql;
      const effects = this.scope.effects;
      return this.read(() => tx.savepoint((sp) => bound(this.shared, sp, { effects, ended: false }, fn)) as Promise<T>);
    }
    return this.begin((tx) => fn(tx));
  }

  /**
   * A top-level transaction whose function also gets its connection, for what src/cluster/ keeps
   * beside the records and must change with them (GC's review queue: a claimed row goes in the
   * transaction that forgets its blob's records).
   */
  transactionWithSql<T>(fn: (tx: MetadataTx, sql: postgres.TransactionSql) => Promise<T>): Promise<T> {
    if (this.scope) throw new Error('transactionWithSql is a top-level transaction');
    return this.begin(fn);
  }

  private async begin<T>(fn: (tx: MetadataTx, sql: postgres.TransactionSql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const scope: TxScope = { effects: { records: false, facts: false }, ended: false };
      try {
        const result = (await this.shared.sql.begin((tx) => bound(this.shared, tx, scope, (roles) => fn(roles, tx)))) as T;
        this.committed(scope.effects);
        return result;
      } catch (err) {
        if (attempt < MAX_ATTEMPTS && isRetryable(err)) continue;
        throw this.failed(err);
      }
    }
  }

  /** PostgreSQL needs no space held back to delete rows: a removal is a transaction. */
  removal<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    return this.transaction(fn);
  }

  private async read<T>(query: (db: Db) => Promise<T>): Promise<T> {
    this.usable();
    try {
      // Inside a transaction, a failure fails it all: begin() decides whether it runs again.
      return await (this.scope ? query(this.db) : retrying(() => query(this.db), MAX_ATTEMPTS));
    } catch (err) {
      throw translatePostgresError(err, this.shared.database);
    }
  }

  /** One statement: part of the bound transaction, or committed on its own (then the counters move at once). */
  private async write<T>(statement: (db: Db) => Promise<T>, changed: (result: T) => Partial<Effects> = () => ({})): Promise<T> {
    this.usable();
    let result: T;
    try {
      result = await (this.scope ? statement(this.db) : retrying(() => statement(this.db), MAX_ATTEMPTS));
    } catch (err) {
      throw this.scope ? translatePostgresError(err, this.shared.database) : this.failed(err);
    }
    const effects = changed(result);
    if (this.scope) {
      this.scope.effects.records ||= effects.records === true;
      this.scope.effects.facts ||= effects.facts === true;
    } else {
      this.committed({ records: effects.records === true, facts: effects.facts === true });
    }
    return result;
  }

  /** A `tx` kept past its function would run on a connection back in the pool: refused, as SQLite refuses it. */
  private usable(): void {
    if (this.scope?.ended) throw new Error('a metadata transaction was used after it ended');
  }

  private committed(effects: Effects): void {
    if (effects.records) this.shared.counters.generation++;
    if (effects.facts) this.shared.counters.factsEpoch++;
  }

  /** A write whose connection was lost may have committed: the counters move, so no cache keeps what it changed. */
  private failed(err: unknown): unknown {
    const typed = translatePostgresError(err, this.shared.database);
    if (typed instanceof MetadataUnavailableError) this.committed({ records: true, facts: true });
    return typed;
  }
}

/** Runs `fn` with the roles bound to `db` for `scope`, which ends when `fn` settles. */
async function bound<T>(shared: Shared, db: postgres.TransactionSql, scope: TxScope, fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
  try {
    return await fn(new PostgresRoles(shared, db, scope));
  } finally {
    scope.ended = true;
  }
}

/**
 * The metadata on PostgreSQL 15+, for several daemons sharing one store (issue 14): the schema is
 * migrated at open (postgres-schema.ts), and the in-memory counters move with this daemon's
 * commits and with the others', heard through LISTEN/NOTIFY (change-feed.ts). An unreachable
 * database fails each call with a MetadataUnavailableError (503); the client reconnects on the
 * next one.
 */
export class PostgresMetadataStore extends PostgresRoles implements MetadataStore {
  private constructor(
    shared: Shared,
    private readonly feed: { close(): Promise<void> },
  ) {
    super(shared, shared.sql, undefined);
  }

  /** Connects, migrates and listens; rejects (a MetadataUnavailableError when out of reach) if any fails. */
  static async open(url: string, options: PostgresMetadataOptions = {}): Promise<PostgresMetadataStore> {
    const origin = randomUUID();
    const connectOptions = clientOptions('ladingd', options.maxConnections ?? 10, {
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      connection: { 'lading.origin': origin },
    });
    const database = describeDatabase(url);
    const sql = postgres(url, connectOptions);
    const counters: Counters = { generation: 0, factsEpoch: 0, deaf: false };
    let feed: ChangeFeed | undefined;
    try {
      const schema = await migrate(sql);
      const heard = (change: Change): void => {
        if (change === 'lost' || change === 'back') counters.deaf = change === 'lost';
        if (change !== 'facts') counters.generation++;
        if (change !== 'records') counters.factsEpoch++;
      };
      feed = new ChangeFeed(url, connectOptions, changeChannel(schema), origin, heard, options.logger ?? silentLogger);
      await feed.start();
      return new PostgresMetadataStore({ sql, counters, database }, feed);
    } catch (err) {
      await feed?.close();
      await sql.end({ timeout: 1 });
      throw translatePostgresError(err, database);
    }
  }

  async close(): Promise<void> {
    await this.feed.close();
    await this.shared.sql.end({ timeout: 5 });
  }
}

/** `host:port/database` of a connection URL, without its credentials. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the configured database';
  }
}

interface LayerRow {
  digest: string;
  diff_id: string;
  unpacked_size: string | number;
}

function toLayerFacts(row: LayerRow): LayerFacts {
  return { digest: row.digest, diffId: row.diff_id, unpackedSize: Number(row.unpacked_size) };
}

function toRecord(row: ImageRow): ImageRecord {
  return { name: row.name, target: parseTarget(row.target), createdAt: row.created_at, updatedAt: row.updated_at };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
