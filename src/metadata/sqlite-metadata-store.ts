import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NoSpaceError } from '../errors.js';
import type { MetadataStore } from './metadata-store.js';
import type { MetadataTx } from './metadata-transaction.js';
import type { SpaceReserve } from './space-reserve.js';
import { addChanges, noChanges, SqliteRoles, type Changes, type Committed } from './sqlite-roles.js';
import { addTargetRows } from './sqlite-migrations.js';
import { GRAPH_VERSION, prepareStatements, SCHEMA, SCHEMA_VERSION, type Statements } from './sqlite-statements.js';
import { WriteQueue } from './write-queue.js';

export { SCHEMA_VERSION } from './sqlite-statements.js';

export interface SqliteMetadataOptions {
  /** Space a removal may take when the disk is full (space-reserve.ts); the daemon's store has one. */
  reserve?: SpaceReserve;
  /** Opens an existing file for reading only. */
  readonly?: boolean;
}

/**
 * The default metadata store: one SQLite file in WAL mode, written with full sync, through two
 * connections. Writes, in a transaction or not, take turns on the write connection (a WriteQueue:
 * a write made there while a transaction awaits would join it), each in `BEGIN IMMEDIATE … COMMIT`.
 * Reads outside a transaction go to a read-only connection, on which WAL shows the last commit and
 * never a transaction in progress. `:memory:` is a file of its own in the temporary folder, removed
 * at close: the second connection must see the first one's data.
 */
export class SqliteMetadataStore extends SqliteRoles implements MetadataStore {
  private readonly db: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes: Statements;
  private readonly readStatements: Statements;
  private readonly queue = new WriteQueue();
  private readonly reserve: SpaceReserve | undefined;
  private readonly tempDir: string | undefined;
  private readonly file: string;

  /**
   * `readonly`: a reader beside the daemon that owns the file (`ladingd check` while it runs). WAL lets
   * it read committed states while the daemon writes; it changes nothing, the schema included.
   */
  constructor(file: string, options: SqliteMetadataOptions = {}) {
    super({ generation: 0, factsEpoch: 0, graphBuilt: false });
    if (file === ':memory:') {
      this.tempDir = mkdtempSync(path.join(tmpdir(), 'lading-metadata-'));
      TEMP_DIRS.add(this.tempDir);
      file = path.join(this.tempDir, 'metadata.db');
    }
    this.file = file;
    this.reserve = options.reserve;
    this.db = new Database(file, options.readonly ? { readonly: true, fileMustExist: true } : {});
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      // A temporary store has nothing to keep across a crash.
      this.db.pragma(this.tempDir ? 'synchronous = OFF' : 'synchronous = FULL');
    }
    this.db.pragma('busy_timeout = 5000');
    const existing = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'images'").get() !== undefined;
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`${file}: metadata schema ${version} is newer than this ladingd's (${SCHEMA_VERSION})`);
    if (options.readonly && version < SCHEMA_VERSION) throw new Error(`${file}: metadata schema ${version} is older than this ladingd's (${SCHEMA_VERSION}); its daemon upgrades it at start`);
    if (!options.readonly) {
      this.db.exec(SCHEMA);
      addTargetRows(this.db);
    }
    // A new store, or an old one without images, has its (empty) graph already.
    this.committed.graphBuilt = version >= GRAPH_VERSION || !existing || this.db.prepare('SELECT 1 FROM images LIMIT 1').get() === undefined;
    if (this.committed.graphBuilt && version < SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    this.reserve?.restore();
    this.writes = prepareStatements(this.db);
    if (options.readonly) {
      this.reader = this.db;
    } else {
      this.reader = new Database(file, { readonly: true, fileMustExist: true });
      this.reader.pragma('busy_timeout = 5000');
    }
    this.readStatements = this.reader === this.db ? this.writes : prepareStatements(this.reader);
  }

  protected reads(): Statements {
    return this.readStatements;
  }

  protected readConsistently<T>(fn: () => T): T {
    return this.reader.transaction(fn)();
  }

  /** A write of its own: a transaction holding just it, after those before it. */
  protected write<T>(removes: boolean, fn: (s: Statements, changes: Changes) => T): Promise<T> {
    return this.exclusive(removes, async (tx) => tx.write(removes, fn));
  }

  transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    return this.exclusive(false, fn);
  }

  removal<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    return this.exclusive(true, fn);
  }

  /**
   * Runs `fn` in a transaction once every write before it is done. A full disk fails it with a
   * NoSpaceError, unless it only removes: then the reserve is released and it runs once more.
   */
  private async exclusive<T>(removes: boolean, fn: (tx: SqliteTransaction) => Promise<T>): Promise<T> {
    const release = await this.queue.acquire();
    try {
      let result: T;
      try {
        result = await this.attempt(fn);
      } catch (err) {
        if (!isDiskFull(err)) throw err;
        if (!removes || !this.reserve?.release()) throw new NoSpaceError(this.file, { cause: err });
        try {
          result = await this.attempt(fn);
        } catch (again) {
          throw isDiskFull(again) ? new NoSpaceError(this.file, { cause: again }) : again;
        }
      }
      // Once blobs have gone and the disk has room again, the next write brings the reserve back.
      if (this.reserve && !this.reserve.held) this.reserve.restore();
      return result;
    } finally {
      release();
    }
  }

  /** One run of `fn` between BEGIN IMMEDIATE and COMMIT; what it changed shows once committed. */
  private async attempt<T>(fn: (tx: SqliteTransaction) => Promise<T>): Promise<T> {
    this.db.exec('BEGIN IMMEDIATE');
    const tx = new SqliteTransaction(this.db, this.writes, this.committed);
    let result: T;
    try {
      result = await fn(tx);
      tx.end();
      this.db.exec('COMMIT');
    } catch (err) {
      tx.end();
      rollback(this.db, 'ROLLBACK');
      throw err;
    }
    const { changes } = tx;
    this.committed.generation += changes.records;
    this.committed.factsEpoch += changes.factsDropped;
    this.committed.graphBuilt ||= changes.graphBuilt;
    return result;
  }

  /** SQLite's own integrity check of the file (`PRAGMA integrity_check`): its complaints, one per line. */
  async integrityCheck(): Promise<string[]> {
    const rows = this.reader.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).filter((line) => line !== 'ok');
  }

  async close(): Promise<void> {
    await this.queue.drain();
    if (this.reader !== this.db) this.reader.close();
    this.db.close();
    if (this.tempDir) {
      rmSync(this.tempDir, { recursive: true, force: true });
      TEMP_DIRS.delete(this.tempDir);
    }
  }
}

/** The folders of `:memory:` stores not closed (tests' stores often are not), removed when the process exits. */
const TEMP_DIRS = new Set<string>();
process.once('exit', () => {
  for (const dir of TEMP_DIRS) rmSync(dir, { recursive: true, force: true });
});

let savepoints = 0;

/**
 * The roles inside one transaction of the write connection: reads see its writes, each write is
 * atomic on its own (a savepoint), and a nested transaction is a savepoint that nested parts take
 * in turn. Refused once its function has settled, or once SQLite has rolled it back (a full disk).
 */
class SqliteTransaction extends SqliteRoles implements MetadataTx {
  readonly changes = noChanges();
  private ended = false;
  private readonly nested = new WriteQueue();
  private readonly atomically: (run: () => unknown) => unknown;

  constructor(
    private readonly db: Database.Database,
    private readonly statements: Statements,
    committed: Committed,
  ) {
    super(committed);
    // better-sqlite3 makes a transaction function a savepoint when a transaction is open.
    this.atomically = db.transaction((run: () => unknown) => run());
  }

  end(): void {
    this.ended = true;
  }

  private check(): void {
    if (this.ended) throw new Error('a metadata transaction was used after it ended');
    if (!this.db.inTransaction) throw new Error('the metadata transaction was rolled back');
  }

  protected reads(): Statements {
    this.check();
    return this.statements;
  }

  protected readConsistently<T>(fn: () => T): T {
    return fn();
  }

  async write<T>(_removes: boolean, fn: (s: Statements, changes: Changes) => T): Promise<T> {
    this.check();
    const changes = noChanges();
    const result = this.atomically(() => fn(this.statements, changes)) as T;
    addChanges(this.changes, changes);
    return result;
  }

  transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    return this.savepoint(fn);
  }

  // Inside a transaction, the outer one judges a full disk.
  removal<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    return this.savepoint(fn);
  }

  private async savepoint<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    this.check();
    const release = await this.nested.acquire();
    try {
      this.check();
      const name = `lading_${++savepoints}`;
      this.db.exec(`SAVEPOINT ${name}`);
      const inner = new SqliteTransaction(this.db, this.statements, this.committed);
      try {
        const result = await fn(inner);
        inner.end();
        this.check();
        this.db.exec(`RELEASE ${name}`);
        addChanges(this.changes, inner.changes);
        return result;
      } catch (err) {
        inner.end();
        rollback(this.db, `ROLLBACK TO ${name}; RELEASE ${name}`);
        throw err;
      }
    } finally {
      release();
    }
  }
}

/** Undoes what is open, unless SQLite has already (a full disk may roll a transaction back itself). */
function rollback(db: Database.Database, sql: string): void {
  if (!db.inTransaction) return;
  try {
    db.exec(sql);
  } catch {
    // The transaction is gone already; the error that brought us here is the one to report.
  }
}

/** SQLITE_FULL: SQLite's word for ENOSPC (or for a database at its page limit, which Lading never sets). */
function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE';
}
