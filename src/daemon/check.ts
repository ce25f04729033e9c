import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ingestLeftovers, strayFiles, verifyBlobs, type BlobFinding } from '../content/blob-check.js';
import type { ContentStore } from '../content/content-store.js';
import { FsContentStore } from '../content/fs-content-store.js';
import { InvalidArgumentError, LadingError } from '../errors.js';
import type { ImageRecord, MetadataStore } from '../metadata/metadata-store.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { displayName, ImageWalker, scannedPresence } from './check-walk.js';
import { isBlobStoreFlag } from './blob-store-options.js';
import { checkCluster, describeCluster } from './cluster-check.js';
import { resolveConfig, type DaemonConfig } from './config.js';
import { isRegistryFlag } from './registry-options.js';
import { METADATA_ELSEWHERE, metadataElsewhere } from './metadata-location.js';
import { lockDataRoot } from './data-root-lock.js';
import { parseFlags } from './flags.js';
import { DIRTY_MARKER } from './startup-check.js';

/**
 * `ladingd check [--repair]`: the whole store verified offline, every blob hashed.
 *
 * Problems it finds, one line each:
 * - leftovers of interrupted writes in `content/ingest/`;
 * - blobs whose bytes do not hash to their name, and files in the blob store that are no blob;
 * - images whose content is not all here: a target (index or manifest) missing, damaged or not
 *   JSON; a manifest that is here without its config or layers. An index's platforms may be absent
 *   (a load or pull of some platforms only), as in containerd;
 * - layer records (diff ID, unpacked size) of blobs that are gone;
 * - blobs that no image reaches (orphans), with the garbage collector's notion of reaching;
 * - a metadata database that fails SQLite's integrity check.
 *
 * Beside a running daemon the check reads only (SQLite read-only, no lock) and reports only what
 * writes in flight cannot fake: corrupt blobs, stray files, images whose content is missing (seen
 * twice: before the scan and again after it), the database's integrity. Ingest files, unused blobs,
 * the blob graph and layer records are the daemon's work in progress then, and are left out.
 *
 * `--repair` removes leftovers, corrupt blobs, stray files, stale layer records and orphans; it needs
 * the daemon stopped.
 * Images whose content is missing are kept as they are: their records stay, inspect still answers
 * (with `Available: false` for what is gone), a load or pull of the image fills the content in
 * again, and `docker rmi` removes them; until then every check reports them.
 */

export interface CheckProblem {
  /** One line in plain words; with --repair it says what was done. */
  message: string;
  /** Whether --repair fixed it. */
  repaired: boolean;
}

export interface CheckResult {
  blobs: number;
  images: number;
  problems: CheckProblem[];
  /** A daemon was running: a read-only check of what is stable while it writes (see above). */
  live?: boolean;
}

export interface CheckOptions {
  repair: boolean;
  /** A daemon is running on the data root (never with `repair`). */
  live?: boolean;
}

/** The stores a check reads, through their interfaces: a second backend is checked the same way. */
export interface CheckedStores {
  metadata: MetadataStore;
  content: ContentStore;
}

/**
 * Checks (and with `repair` fixes) the stores of `dataRoot`; the caller holds the data root. Blobs
 * and records are read through the store interfaces; only the leftovers of writes and stray files
 * are read from the folders of the filesystem layout under `dataRoot`.
 */
export async function checkStore(dataRoot: string, stores: CheckedStores, options: CheckOptions): Promise<CheckResult> {
  const { metadata, content } = stores;
  const { repair } = options;
  const live = options.live === true && !repair;
  const contentRoot = path.join(dataRoot, 'content');
  const problems: CheckProblem[] = [];
  const report = (message: string, repaired = false): void => {
    problems.push({ message, repaired });
  };
  const rel = (file: string): string => path.relative(dataRoot, file);
  const done = (what: string): string => (repair ? `: ${what}` : '');

  // Image records first: beside a daemon, every blob they name was committed before they were.
  let records: ImageRecord[] | undefined;
  try {
    records = await metadata.listImages();
  } catch (err) {
    report(`the image records cannot be read: ${(err as Error).message}`);
  }

  // Interrupted writes (beside a daemon: writes in progress).
  for (const left of live ? [] : await ingestLeftovers(contentRoot)) {
    if (repair) await fs.rm(left.file, { force: true, recursive: true });
    report(`leftover of an interrupted write: ${rel(left.file)} (${left.size} bytes)${done('removed')}`, repair);
  }

  // Every blob hashed.
  const findings = [...(await strayFiles(contentRoot)), ...(await verifyBlobs(content))].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const present = new Map<string, number>();
  const corrupt = new Set<string>();
  for (const f of findings) {
    if (f.kind === 'ok') {
      present.set(f.digest, f.size);
    } else if (f.kind === 'corrupt') {
      if (repair) {
        await metadata.forgetBlob(f.digest);
        await content.delete(f.digest);
        await metadata.deleteLayerFacts(f.digest);
      } else {
        corrupt.add(f.digest);
      }
      report(`corrupt blob ${f.digest}: its ${f.size} bytes hash to ${f.actual}${done('removed')}`, repair);
    } else {
      const removable = repair && f.isFile;
      if (removable) await fs.rm(f.file, { force: true });
      report(`not a blob: ${rel(f.file)} is ${f.what}${removable ? ': removed' : ''}`, removable);
    }
  }

  // Images: every target walked; what they reach is not an orphan.
  const reachable = new Set<string>();
  const walker = new ImageWalker(content, scannedPresence(present, corrupt), reachable);
  let walkFailed = false;
  const byTarget = new Map<string, ImageRecord[]>();
  for (const record of records ?? []) {
    const list = byTarget.get(record.target.digest) ?? [];
    list.push(record);
    byTarget.set(record.target.digest, list);
  }
  for (const [digest, group] of byTarget) {
    let issues: string[];
    try {
      issues = await walker.image(group[0]!.target);
    } catch (err) {
      walkFailed = true;
      issues = [`could not be read: ${(err as Error).message}`];
    }
    // Beside a daemon, a blob may have gone with an image removed since the records were read.
    if (live && issues.length > 0) {
      issues = await confirmedIssues(stores, group, present, corrupt).catch((err: Error) => [`could not be read: ${err.message}`]);
    }
    const who = `image ${group.map((r) => displayName(r)).join(', ')} (${digest})`;
    for (const issue of issues) report(`${who}: ${issue}${done('kept, with its content incomplete')}`);
  }

  if (live) return { blobs: findings.filter((f) => f.kind !== 'stray').length, images: byTarget.size, problems, live };

  // The blob graph (garbage collection's view of what reaches what) against the walk.
  if (records && !walkFailed) await checkGraph(metadata, walker, present, corrupt, repair, report);

  // Layer records of blobs that are gone.
  for (const facts of await metadata.listLayerFacts()) {
    if (present.has(facts.digest) || corrupt.has(facts.digest)) continue;
    if (repair) await metadata.deleteLayerFacts(facts.digest);
    report(`layer record of ${facts.digest}, whose blob is gone${done('removed')}`, repair);
  }

  // Orphans: only when every record was read and walked, so that nothing is deleted on a guess.
  if (records && !walkFailed) {
    for (const [digest, size] of present) {
      if (reachable.has(digest)) continue;
      if (repair) {
        await metadata.forgetBlob(digest);
        await content.delete(digest);
        await metadata.deleteLayerFacts(digest);
      }
      report(`blob ${digest} (${size} bytes) is not used by any image${done('removed')}`, repair);
    }
  }
  // Facts of the list (image-list.ts) are derived from blobs: after any removal, gathered again.
  if (repair && problems.some((p) => p.repaired)) await metadata.clearTargetFacts();

  return { blobs: findings.filter((f) => f.kind !== 'stray').length, images: byTarget.size, problems };
}

/**
 * Beside a daemon, an image's issues found against the scan, confirmed: the image is still named so
 * (else an rmi removed it meanwhile: no issue), and walked again against the blob files there now (a
 * blob committed since the scan was verified by the store). What is still wrong is stable.
 */
async function confirmedIssues(
  { metadata, content }: CheckedStores,
  group: ImageRecord[],
  scanned: ReadonlyMap<string, number>,
  corrupt: ReadonlySet<string>,
): Promise<string[]> {
  const target = group[0]!.target;
  const still = (await metadata.imagesByTarget(target.digest)).filter((r) => group.some((g) => g.name === r.name));
  if (still.length === 0) return [];
  const now = new Map<string, number>();
  for await (const { digest, size } of content.list()) {
    if (!corrupt.has(digest)) now.set(digest, scanned.get(digest) ?? size);
  }
  return new ImageWalker(content, scannedPresence(now, new Set(corrupt)), new Set()).image(target);
}

/**
 * The blob graph must hold, for every index and manifest an image reaches and that is here, the
 * links its JSON lists, and no links out of blobs that are gone. Repair writes what is missing
 * and drops what is stale; a data root from before the graph (schema 1) gets it built here.
 */
async function checkGraph(
  metadata: MetadataStore,
  walker: ImageWalker,
  present: ReadonlyMap<string, number>,
  corrupt: ReadonlySet<string>,
  repair: boolean,
  report: (message: string, repaired?: boolean) => void,
): Promise<void> {
  const stored = new Map<string, Set<string>>();
  for (const { parent, child } of await metadata.listBlobEdges()) {
    const children = stored.get(parent) ?? new Set<string>();
    children.add(child);
    stored.set(parent, children);
  }
  if (!metadata.graphBuilt) {
    if (repair) {
      await metadata.putBlobEdges([...walker.edges].flatMap(([parent, children]) => [...children].map((child) => ({ parent, child }))));
      await metadata.markGraphBuilt();
    }
    report(`the blob graph has not been built (a data root of an older ladingd; the daemon builds it at start)${repair ? ': built' : ''}`, repair);
    return;
  }
  for (const [parent, children] of walker.edges) {
    const have = stored.get(parent) ?? new Set<string>();
    const missing = [...children].filter((c) => !have.has(c));
    const extra = [...have].filter((c) => !children.has(c));
    if (missing.length === 0 && extra.length === 0) continue;
    if (repair) {
      await metadata.transaction(async (tx) => {
        await tx.deleteBlobEdges(parent);
        await tx.putBlobEdges([...children].map((child) => ({ parent, child })));
      });
    }
    const parts = [
      ...(missing.length > 0 ? [`lacks ${missing.length} of its link(s) (${missing[0]}…)`] : []),
      ...(extra.length > 0 ? [`has ${extra.length} link(s) its JSON does not list (${extra[0]}…)`] : []),
    ];
    report(`blob graph: ${parent} ${parts.join(' and ')}${repair ? ': rewritten' : ''}`, repair);
  }
  for (const parent of stored.keys()) {
    // A corrupt blob is reported as such; its links go with it when it is removed.
    if (present.has(parent) || corrupt.has(parent)) continue;
    if (repair) await metadata.deleteBlobEdges(parent);
    report(`blob graph: links out of ${parent}, whose blob is gone${repair ? ': removed' : ''}`, repair);
  }
}

function keyOf(f: BlobFinding): string {
  return f.kind === 'stray' ? `~${f.file}` : f.digest;
}

/** The store's own integrity check of the metadata database, as problems. */
async function metadataIntegrity(metadata: SqliteMetadataStore): Promise<CheckProblem[]> {
  return (await metadata.integrityCheck()).map((line) => ({ message: `metadata.db fails SQLite's integrity check: ${line}`, repaired: false }));
}

/**
 * Checks the data root as a whole, holding it meanwhile so no daemon starts; beside a running daemon
 * a check reads only (see checkStore) and a repair is refused. After a --repair that left nothing to
 * repair, the next start skips its recovery.
 */
export async function checkDataRoot(dataRoot: string, options: CheckOptions): Promise<CheckResult> {
  let st;
  try {
    st = await fs.stat(dataRoot);
  } catch {
    throw new InvalidArgumentError(`${dataRoot}: no such directory`);
  }
  if (!st.isDirectory()) throw new InvalidArgumentError(`${dataRoot}: not a directory`);
  const elsewhere = await metadataElsewhere(dataRoot);
  if (elsewhere !== undefined) {
    throw new InvalidArgumentError(
      `${dataRoot}: its metadata is in ${elsewhere} (${METADATA_ELSEWHERE}); ladingd check reads a data root's own SQLite metadata only, and would take every blob here for unused ` +
        '(check the replicas with --metadata postgres://… --blob-store registry://…)',
    );
  }
  let lock: { release(): Promise<void> };
  try {
    lock = await lockDataRoot(dataRoot);
  } catch (err) {
    if (options.repair || !(err instanceof LadingError && err.kind === 'unavailable')) throw err;
    return checkBesideDaemon(dataRoot);
  }
  try {
    const file = path.join(dataRoot, 'metadata.db');
    const exists = existsSync(file);
    // No database yet: nothing names anything (and the check creates no file).
    const metadata = new SqliteMetadataStore(exists ? file : ':memory:');
    let result: CheckResult;
    try {
      const integrity = exists ? await metadataIntegrity(metadata) : [];
      result = await checkStore(dataRoot, { metadata, content: contentOf(dataRoot) }, options);
      result.problems.unshift(...integrity);
    } finally {
      await metadata.close();
    }
    if (options.repair && result.problems.every((p) => p.repaired)) {
      await fs.rm(path.join(dataRoot, DIRTY_MARKER), { force: true });
    }
    return result;
  } finally {
    await lock.release();
  }
}

/** The read-only check while a daemon runs: the database opened read-only, no lock taken. */
async function checkBesideDaemon(dataRoot: string): Promise<CheckResult> {
  const metadata = new SqliteMetadataStore(path.join(dataRoot, 'metadata.db'), { readonly: true });
  try {
    const integrity = await metadataIntegrity(metadata);
    const result = await checkStore(dataRoot, { metadata, content: contentOf(dataRoot) }, { repair: false, live: true });
    result.problems.unshift(...integrity);
    return result;
  } finally {
    await metadata.close();
  }
}

/** The data root's content store, not initialized: a check creates no folder. */
function contentOf(dataRoot: string): ContentStore {
  return new FsContentStore(path.join(dataRoot, 'content'));
}

export const CHECK_USAGE = `Usage:  ladingd check [OPTIONS]

Verifies the image store: every blob against its digest, every image's content, the metadata
against the blobs, leftovers of interrupted writes. Prints each problem on a line of its own.
Exits 0 when there is none, 1 when there are (with --repair, after fixing what can be fixed),
2 when it could not check. While a daemon uses the data root it checks what writes in progress
cannot fake (blobs, stray files, images' content, the database) and leaves out ingest files, unused
blobs, the blob graph and layer records; --repair needs the daemon stopped.

With --metadata postgres://… and --blob-store registry://… (or the same in the daemon.json of
--config-file) it checks the replicas' shared store instead, read-only, while they run: every
image's content in the registry, the holders that keep it there, and what no image reaches nor
any lease holds (holders, layer records, blob sources, links of the blob graph). --repair is
refused there: garbage is the replicas' garbage collector's to take.

Options:
      --config-file string   Daemon configuration file, for its data-root (or metadata, blob-store, …)
      --data-root string     Root directory of persistent Lading state (default: $XDG_DATA_HOME/lading)
  -h, --help                 Print usage
      --repair               Remove corrupt blobs, orphans, stale layer records and ingest leftovers;
                             images whose content is missing are kept and reported
      --metadata string      The replicas' PostgreSQL (postgres://user:password@host:port/database)
      --blob-store string    The replicas' registry blob store (registry://host[:port]/repository)
      --blob-store-auth string, --insecure-registry, --registry-certs-dir, --registry-response-timeout
                             As the daemon takes them, to reach that registry
`;

/** Flags the check takes as the daemon does (parseFlags), each with a value. */
const PASSED_ON = new Set(['--data-root', '--config-file', '--metadata', '--lease-ttl', '--blob-cache-size']);

/** The `ladingd check` command: returns the exit code. */
export async function runCheck(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l), err: (line: string) => void = (l) => process.stderr.write(l)): Promise<number> {
  let repair = false;
  const passOn: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const name = arg.startsWith('--') && arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (name === '-h' || name === '--help') {
      out(CHECK_USAGE);
      return 0;
    } else if (arg === '--repair') {
      repair = true;
    } else if (PASSED_ON.has(name) || isBlobStoreFlag(name) || isRegistryFlag(name)) {
      passOn.push(arg);
      if (name === arg) {
        const value = argv[++i];
        if (value === undefined) {
          err(`ladingd check: flag needs an argument: ${name}\n`);
          return 2;
        }
        passOn.push(value);
      }
    } else {
      err(`ladingd check: unknown flag: ${arg}\nSee 'ladingd check --help'.\n`);
      return 2;
    }
  }
  try {
    const config = resolveConfig(parseFlags(passOn));
    if (config.metadata?.kind === 'postgres') return await runClusterCheck(config, repair, out, err);
    if (config.blobStore) throw new InvalidArgumentError('--blob-store without --metadata postgres://…: a registry blob store is checked with the replicas\' metadata');
    const dataRoot = config.dataRoot;
    const result = await checkDataRoot(dataRoot, { repair });
    for (const p of result.problems) out(`${p.message}\n`);
    if (result.live) {
      err('ladingd check: a daemon is running: read-only check; ingest files, unused blobs, the blob graph and layer records are not checked (stop it for a full check)\n');
    }
    return summarize(dataRoot, result, repair, err);
  } catch (e) {
    // A daemon on the data root: the only refusal of a repair that says unavailable.
    const message = repair && e instanceof LadingError && e.kind === 'unavailable' ? `${e.message}; stop it before repairing` : (e as Error).message;
    err(`ladingd check: ${message}\n`);
    return 2;
  }
}

/** The summary line on stderr; the exit code. */
function summarize(where: string, result: CheckResult, repair: boolean, err: (line: string) => void): number {
  const repaired = result.problems.filter((p) => p.repaired).length;
  const n = result.problems.length;
  err(
    `ladingd check: ${where}: ${result.blobs} blob(s), ${result.images} image(s): ` +
      (n === 0 ? 'no problems\n' : `${n} problem(s)${repair ? `, ${repaired} repaired` : ''}\n`),
  );
  return n === 0 ? 0 : 1;
}

/**
 * The replicas' shared store (cluster-check.ts). --repair is refused: a deletion from outside the
 * replicas would evict nothing from their blob caches, and a replica that still caches a blob the
 * registry lost takes it for stored (README, More than one machine).
 */
async function runClusterCheck(config: DaemonConfig, repair: boolean, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  if (!config.blobStore) {
    throw new InvalidArgumentError('--metadata postgres://… needs --blob-store registry://…: the check reads the replicas\' blobs where they keep them');
  }
  if (repair) {
    throw new InvalidArgumentError(
      '--repair is not available for replicas on PostgreSQL: what no image reaches is collected by the replicas\' garbage collector ' +
        '(under their sweep lock, evicting their caches), and missing content comes back with a load or pull of the image; check reads only',
    );
  }
  const where = { metadataUrl: config.metadata?.kind === 'postgres' ? config.metadata.url : '', blobStore: config.blobStore, registry: config.registry };
  const result = await checkCluster(where);
  for (const p of result.problems) out(`${p.message}\n`);
  for (const note of result.notes) err(`ladingd check: note: ${note}\n`);
  return summarize(describeCluster(where), result, false, err);
}
