import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ingestLeftovers, strayFiles, verifyBlobs, type BlobFinding } from '../content/blob-check.js';
import type { ContentStore } from '../content/content-store.js';
import { DEFAULT_MAX_JSON_BYTES, FsContentStore } from '../content/fs-content-store.js';
import { InvalidArgumentError, LadingError } from '../errors.js';
import type { ImageRecord, MetadataStore } from '../metadata/metadata-store.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { isDigest } from '../oci/digest.js';
import { walkImageGraph } from '../oci/image-graph-walk.js';
import { isIndexType, isManifestType, MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { familiarString, parseNormalizedNamed } from '../reference/reference.js';
import { resolveConfig } from './config.js';
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
  const walker = new ImageWalker(content, present, corrupt, reachable);
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
  return new ImageWalker(content, now, corrupt, new Set()).image(target);
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

/**
 * Walks an image's target with the one graph walk (walkImageGraph), as the garbage collector does
 * (index → manifests → config and layers), noting what each reaches, and says what is missing or
 * broken. Blobs are read through the content store.
 */
class ImageWalker {
  private readonly parsed = new Map<string, unknown>();
  /** Each index's and manifest's children as its JSON lists them, for the blobs walked and parsed. */
  readonly edges = new Map<string, Set<string>>();

  constructor(
    private readonly content: ContentStore,
    private readonly present: ReadonlyMap<string, number>,
    private readonly corrupt: ReadonlySet<string>,
    private readonly reachable: Set<string>,
  ) {}

  async image(target: Descriptor): Promise<string[]> {
    const issues: string[] = [];
    if (!isIndexType(target.mediaType) && !isManifestType(target.mediaType)) {
      issues.push(`its target has the media type ${JSON.stringify(target.mediaType)}, neither an index nor a manifest`);
    }
    const reached = new Set<string>();
    await walkImageGraph(target, (desc, depth) => this.children(desc, depth, issues, reached), { seen: reached });
    for (const digest of reached) this.reachable.add(digest);
    return issues;
  }

  /**
   * The walk's handler: an index's manifests are walked; a manifest's config and layers are
   * checked here and counted as reached, never walked (as the garbage collector counts them).
   */
  private async children(desc: Descriptor, depth: number, issues: string[], reached: Set<string>): Promise<Descriptor[] | undefined> {
    const index = isIndexType(desc.mediaType);
    if (!index && !isManifestType(desc.mediaType)) return undefined;
    const kind = index ? 'index' : 'manifest';
    const what = depth === 0 ? `its ${kind} ${desc.digest}` : `${kind} ${desc.digest}`;
    // Below the target, an absent index or manifest is a platform this store does not have.
    const doc = await this.json(desc, what, issues, depth === 0);
    if (doc === undefined) return undefined;
    if (index) {
      const manifests = (doc as { manifests?: unknown }).manifests;
      if (!Array.isArray(manifests)) {
        issues.push(`${what} is not an image index: it has no list of manifests`);
        return undefined;
      }
      const listed = manifests.filter(isDescriptor);
      const children = this.childrenOf(desc.digest);
      for (const child of listed) children.add(child.digest);
      return listed;
    }
    const manifest = doc as { config?: unknown; layers?: unknown };
    if (!isDescriptor(manifest.config) || !Array.isArray(manifest.layers)) {
      issues.push(`${what} is not an image manifest: it lacks a config or a list of layers`);
      return undefined;
    }
    const config = manifest.config;
    const children = this.childrenOf(desc.digest);
    children.add(config.digest);
    for (const layer of manifest.layers) if (isDescriptor(layer)) children.add(layer.digest);
    for (const digest of children) reached.add(digest);
    if (config.mediaType === MediaType.ociConfig || config.mediaType === MediaType.dockerConfig) {
      await this.json(config, `config ${config.digest} of manifest ${desc.digest}`, issues, true);
    } else {
      this.require(config, `config ${config.digest} of manifest ${desc.digest}`, issues);
    }
    for (const [i, layer] of manifest.layers.entries()) {
      if (!isDescriptor(layer)) {
        issues.push(`layer ${i} of manifest ${desc.digest} is no descriptor`);
        continue;
      }
      if (isForeignLayer(layer.mediaType)) continue;
      this.require(layer, `layer ${layer.digest} of manifest ${desc.digest}`, issues);
    }
    return undefined;
  }

  private childrenOf(parent: string): Set<string> {
    let children = this.edges.get(parent);
    if (!children) {
      children = new Set();
      this.edges.set(parent, children);
    }
    return children;
  }

  /** Whether the blob is here, intact and of the size its descriptor says; an issue when not. */
  private require(desc: Descriptor, what: string, issues: string[], required = true): boolean {
    const size = this.present.get(desc.digest);
    if (size === undefined) {
      if (this.corrupt.has(desc.digest)) issues.push(`${what} is corrupt`);
      else if (required) issues.push(`${what} is missing`);
      return false;
    }
    if (size !== desc.size) {
      issues.push(`${what} is ${size} bytes, but its descriptor says ${desc.size}`);
      return false;
    }
    return true;
  }

  /** The parsed JSON of a blob that must be (or, when not `required`, may be) here. */
  private async json(desc: Descriptor, what: string, issues: string[], required: boolean): Promise<unknown> {
    if (!this.require(desc, what, issues, required)) return undefined;
    if (this.parsed.has(desc.digest)) return this.parsed.get(desc.digest);
    if (desc.size > DEFAULT_MAX_JSON_BYTES) {
      issues.push(`${what} is ${desc.size} bytes, too large for a JSON document`);
      return undefined;
    }
    const bytes = await this.content.readBytes(desc.digest, DEFAULT_MAX_JSON_BYTES);
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      issues.push(`${what} is not valid JSON: ${(err as Error).message}`);
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push(`${what} is not a JSON object`);
      return undefined;
    }
    this.parsed.set(desc.digest, value);
    return value;
  }
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.digest === 'string' &&
    isDigest(d.digest) &&
    typeof d.mediaType === 'string' &&
    typeof d.size === 'number'
  );
}

function isForeignLayer(mediaType: string): boolean {
  return mediaType === MediaType.dockerLayerForeignGzip || mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.');
}

function keyOf(f: BlobFinding): string {
  return f.kind === 'stray' ? `~${f.file}` : f.digest;
}

function displayName(record: ImageRecord): string {
  if (record.name === `moby-dangling@${record.target.digest}`) return '<untagged>';
  try {
    return familiarString(parseNormalizedNamed(record.name));
  } catch {
    return record.name;
  }
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
    throw new InvalidArgumentError(`${dataRoot}: its metadata is in ${elsewhere} (${METADATA_ELSEWHERE}); ladingd check reads a data root's own SQLite metadata only, and would take every blob here for unused`);
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

Options:
      --config-file string   Daemon configuration file, for its data-root
      --data-root string     Root directory of persistent Lading state (default: $XDG_DATA_HOME/lading)
  -h, --help                 Print usage
      --repair               Remove corrupt blobs, orphans, stale layer records and ingest leftovers;
                             images whose content is missing are kept and reported
`;

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
    } else if (name === '--data-root' || name === '--config-file') {
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
  let dataRoot: string;
  try {
    dataRoot = resolveConfig(parseFlags(passOn)).dataRoot;
    const result = await checkDataRoot(dataRoot, { repair });
    for (const p of result.problems) out(`${p.message}\n`);
    const repaired = result.problems.filter((p) => p.repaired).length;
    const n = result.problems.length;
    if (result.live) {
      err('ladingd check: a daemon is running: read-only check; ingest files, unused blobs, the blob graph and layer records are not checked (stop it for a full check)\n');
    }
    err(
      `ladingd check: ${dataRoot}: ${result.blobs} blob(s), ${result.images} image(s): ` +
        (n === 0 ? 'no problems\n' : `${n} problem(s)${repair ? `, ${repaired} repaired` : ''}\n`),
    );
    return n === 0 ? 0 : 1;
  } catch (e) {
    const message = e instanceof LadingError && e.kind === 'unavailable' ? `${e.message}; stop it before repairing` : (e as Error).message;
    err(`ladingd check: ${message}\n`);
    return 2;
  }
}
