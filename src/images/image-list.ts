/**
 * `GET /images/json`: the image list as Docker 28's containerd image service builds it
 * (daemon/containerd/image_list.go). Everything derived from an image's blobs is kept per target
 * digest (`TargetFacts`, in the metadata store), so a list of a thousand images reads no blob and
 * stats no file, and a `reference` filter reads only the records it can match.
 */
import { createHash } from 'node:crypto';
import { NoSpaceError } from '../errors.js';
import type { ImageRecord, ImageRecords, MetadataStore } from '../metadata/metadata-store.js';
import { childrenOf } from '../oci/image-graph-walk.js';
import { MediaType } from '../oci/media-types.js';
import { formatPlatformAll, hostPlatform, hostPreferenceMatcher } from '../oci/platform.js';
import type { Descriptor, ImageConfig } from '../oci/types.js';
import {
  familiarString,
  parseNormalizedNamed,
  referenceString,
  trimNamed,
  withDigest,
  type Reference,
} from '../reference/reference.js';
import { rfc3339Nanos, unixSecondsOf } from '../util/go-time.js';
import { ContentReader } from '../content/content-reader.js';
import { filterBool, filterValues, validateFilters, type FilterArgs } from '../filters/filter-args.js';
import { labelChecks, labelsMatch, referenceMatches, untilTimes } from './image-filters.js';
import { isDangling } from './image-names.js';
import { collectInspectFacts } from './inspect.js';
import { bestPresentImage, walkPresent } from './present-content.js';
import { resolveImage } from './resolve.js';
import type { ImageSummary, ManifestSummary } from './explorer-api-types.js';
import { rowOf } from './list-rows.js';

export interface ListOptions {
  /** Docker hides intermediate images of the classic builder without it; Lading has none. */
  all: boolean;
  filters: FilterArgs;
  sharedSize: boolean;
  manifests: boolean;
  /** Each available image manifest carries the image's `Identity` (API 1.54, with `manifests`). */
  identity?: boolean;
}

export const ACCEPTED_IMAGE_FILTERS: ReadonlySet<string> = new Set([
  'dangling',
  'label',
  'label!',
  'before',
  'since',
  'reference',
  'until',
]);

/** Everything the list and disk usage need from one target's blobs. */
export interface TargetFacts {
  /** Every blob the target reaches was present; only then do the facts outlive a write. */
  complete: boolean;
  /** Docker's multi-platform summary, reused from inspect. */
  manifests: ManifestSummary[];
  /** Docker 28's list Size: content and unpacked bytes of every manifest. */
  size: number;
  /** The preferred available platform's config: Created (unix seconds) and Labels. */
  best?: { created: number; labels: Record<string, string> | null };
  /** `created` (nanoseconds) of the config GetImage picks, which before/since compare; undefined when it fails or has none. */
  created?: bigint;
  /** Chain IDs of every available platform's layers, repeats kept (Docker counts them so). */
  chains: Array<{ chainId: string; unpacked?: number }>;
  /** Each present blob the target reaches: digest -> size. */
  blobs: Map<string, number>;
  /** Labels of each present config the target reaches: the label filter looks at them all. */
  configLabels: Array<Record<string, string> | null>;
}

/** The image records of one moment and the facts of their targets. */
export interface ImageSnapshot {
  records: ImageRecord[];
  facts: ReadonlyMap<string, TargetFacts>;
  metadata: MetadataStore;
  reader: ContentReader;
}

/** Where image facts are read from: the records and the blobs they name. */
export interface FactsSource {
  readonly reader: ContentReader;
  readonly metadata: MetadataStore;
}

const COMPUTE_CONCURRENCY = 16;
/** Incomplete facts kept for the current generation at most (they are recomputed after a write). */
const INCOMPLETE_MAX = 10_000;
/** Bump when TargetFacts or how they are computed changes: stored facts of another format are recomputed. */
const FACTS_FORMAT = 1;
/** Parsed facts kept in memory (a few kB each), so that repeated lists of the same images parse nothing. */
const PARSED_MAX = 5_000;

/**
 * Target facts by digest, kept in the metadata store (`target_facts`): blobs are immutable, so
 * facts of a complete target hold until one of its blobs is deleted (the garbage collector then
 * forgets them, metadata forgetBlob), and a list of a thousand images reads a thousand rows and
 * walks no blob. Facts of an incomplete target (a platform missing) hold only until the next
 * write, which may bring the missing blobs, and only in memory.
 */
export class TargetFactsStore {
  private incomplete = { generation: -1, facts: new Map<string, TargetFacts>() };
  /** Parsed stored facts, the most recently used last: repeated lists of the same images parse nothing. */
  private readonly parsed = new Map<string, TargetFacts>();
  private parsedEpoch = -1;
  /** The host platform is part of the key: GetImage's choice, and so Created and Labels, depend on it. */
  readonly key = `${FACTS_FORMAT} ${formatPlatformAll(hostPlatform())}`;

  constructor(
    private readonly source: FactsSource,
    private readonly maxParsed = PARSED_MAX,
  ) {}

  /** `records` (in name order) and their targets' facts, stored or gathered now. */
  async snapshot(records: ImageRecord[]): Promise<ImageSnapshot> {
    const { metadata } = this.source;
    const generation = metadata.generation;
    if (this.incomplete.generation !== generation) this.incomplete = { generation, facts: new Map() };
    // Stored facts were dropped (a blob under them deleted): so are the parsed copies.
    if (this.parsedEpoch !== metadata.factsEpoch) {
      this.parsed.clear();
      this.parsedEpoch = metadata.factsEpoch;
    }
    const targets = new Map<string, Descriptor>();
    for (const r of records) if (!targets.has(r.target.digest)) targets.set(r.target.digest, r.target);

    const facts = new Map<string, TargetFacts>();
    const unknown: string[] = [];
    for (const digest of targets.keys()) {
      const known = this.incomplete.facts.get(digest) ?? this.recall(digest);
      if (known) facts.set(digest, known);
      else unknown.push(digest);
    }
    const missing: Descriptor[] = [];
    const stored = unknown.length > 0 ? await metadata.getTargetFacts(unknown, this.key) : new Map<string, string>();
    for (const digest of unknown) {
      const json = stored.get(digest);
      const known = json === undefined ? undefined : parseStored(json);
      if (known) {
        facts.set(digest, known);
        this.remember(digest, known);
      } else {
        missing.push(targets.get(digest) as Descriptor);
      }
    }

    const reader = new PresenceOnce(this.source.reader);
    const complete: Array<[string, TargetFacts]> = [];
    for (let i = 0; i < missing.length; i += COMPUTE_CONCURRENCY) {
      const batch = missing.slice(i, i + COMPUTE_CONCURRENCY);
      const computed = await Promise.all(batch.map((t) => collectTargetFacts({ reader, metadata }, t).catch(() => brokenFacts())));
      batch.forEach((t, j) => {
        const f = computed[j] as TargetFacts;
        facts.set(t.digest, f);
        if (f.complete) complete.push([t.digest, f]);
        else if (this.incomplete.generation === metadata.generation && this.incomplete.facts.size < INCOMPLETE_MAX) {
          this.incomplete.facts.set(t.digest, f);
        }
      });
    }
    // Complete facts are kept for good. Written inside the service's read section: no sweep can
    // have deleted one of their blobs since they were gathered.
    if (complete.length > 0) {
      try {
        await metadata.transaction(async (tx) => {
          for (const [digest, f] of complete) await tx.putTargetFacts(digest, this.key, serializeFacts(f), rowOf(f));
        });
        for (const [digest, f] of complete) this.remember(digest, f);
      } catch (err) {
        // Only a copy: a list on a full disk answers from what it computed, and the next one computes again.
        if (!(err instanceof NoSpaceError)) throw err;
      }
    }
    return { records, facts, metadata, reader: this.source.reader };
  }

  private recall(digest: string): TargetFacts | undefined {
    const f = this.parsed.get(digest);
    if (f) {
      this.parsed.delete(digest);
      this.parsed.set(digest, f);
    }
    return f;
  }

  private remember(digest: string, facts: TargetFacts): void {
    this.parsed.delete(digest);
    this.parsed.set(digest, facts);
    if (this.parsed.size > this.maxParsed) this.parsed.delete(this.parsed.keys().next().value as string);
  }
}

function parseStored(json: string): TargetFacts | undefined {
  try {
    return parseFacts(json);
  } catch {
    return undefined;
  }
}

/** TargetFacts as JSON: the blob map as pairs, `created` (a bigint) as a decimal string. */
export function serializeFacts(facts: TargetFacts): string {
  return JSON.stringify({ ...facts, blobs: [...facts.blobs], created: facts.created?.toString() });
}

export function parseFacts(json: string): TargetFacts {
  const raw = JSON.parse(json) as Omit<TargetFacts, 'blobs' | 'created'> & { blobs: Array<[string, number]>; created?: string };
  const { blobs, created, ...rest } = raw;
  return { ...rest, blobs: new Map(blobs), ...(created !== undefined ? { created: BigInt(created) } : {}) };
}

/**
 * The records a list has to look at, in name order. A `reference` pattern can only match a name
 * whose familiar form starts with the pattern's literal part (up to its first `*`, `?`, `[` or
 * `\`), so with only such patterns the candidates come from name ranges of the images table:
 * the stored (normalized) name is the familiar one, or it with `docker.io/` or `docker.io/library/`
 * before it. The filters then run on the candidates exactly as on every record.
 */
export async function candidateRecords(metadata: ImageRecords, filters: FilterArgs): Promise<ImageRecord[]> {
  const patterns = filterValues(filters, 'reference');
  if (patterns.length === 0) return metadata.listImages();
  const prefixes = new Set<string>();
  for (const pattern of patterns) {
    const literal = literalPrefix(pattern);
    if (literal === '') return metadata.listImages();
    for (const stored of [literal, `docker.io/library/${literal}`, `docker.io/${literal}`]) prefixes.add(stored);
  }
  const byName = new Map<string, ImageRecord>();
  for (const prefix of prefixes) for (const record of await metadata.imagesWithPrefix(prefix)) byName.set(record.name, record);
  // Names are ASCII (the reference grammar), so this is SQLite's order too.
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What any name Go's path.Match accepts for `pattern` starts with. */
export function literalPrefix(pattern: string): string {
  const meta = pattern.search(/[*?[\\]/);
  return meta < 0 ? pattern : pattern.slice(0, meta);
}

/**
 * The reader for one snapshot's walks, which ask whether a blob is here several times (inspect's
 * walk, the present walk, GetImage's), and many images share their base layers: each blob's
 * presence is looked up once. No sweep runs meanwhile (the service lists in a read section); a blob
 * a load adds meanwhile comes with a write, after which incomplete facts are gathered again.
 */
class PresenceOnce extends ContentReader {
  private readonly present = new Map<string, Promise<boolean>>();

  constructor(private readonly inner: ContentReader) {
    super(inner.store);
  }

  override readJson<T>(digest: string): Promise<T | undefined> {
    return this.inner.readJson<T>(digest);
  }

  override has(digest: string): Promise<boolean> {
    let known = this.present.get(digest);
    if (!known) {
      known = this.inner.has(digest);
      this.present.set(digest, known);
    }
    return known;
  }
}

/** A target whose blobs cannot be read as an image: listed with nothing known. */
function brokenFacts(): TargetFacts {
  return { complete: false, manifests: [], size: 0, chains: [], blobs: new Map(), configLabels: [] };
}

/** Walks one target: inspect's manifest summaries, then the present blobs as containerd walks them. */
export async function collectTargetFacts(source: FactsSource, target: Descriptor): Promise<TargetFacts> {
  const { reader, metadata } = source;
  const sizes = new Map<string, number | undefined>();
  const unpacked = async (digest: string): Promise<number | undefined> => {
    if (!sizes.has(digest)) sizes.set(digest, (await metadata.getLayerFacts(digest))?.unpackedSize);
    return sizes.get(digest);
  };
  const matcher = hostPreferenceMatcher();
  const inspect = await collectInspectFacts(reader, { unpackedSize: unpacked }, target, matcher);

  const chains: TargetFacts['chains'] = [];
  for (const m of inspect.manifests) {
    if (m.kind !== 'image' || !m.available) continue;
    const manifest = await reader.readManifest(m.descriptor);
    const config = manifest && (await reader.readConfig(manifest.config));
    if (!manifest || !config || typeof config !== 'object') continue;
    const diffIds = Array.isArray(config.rootfs?.diff_ids) ? config.rootfs.diff_ids.map(String) : [];
    for (const [i, chainId] of chainIds(diffIds).entries()) {
      const layer = manifest.layers[i];
      const size = layer && (await unpacked(layer.digest));
      chains.push(size === undefined ? { chainId } : { chainId, unpacked: size });
    }
  }

  const present = await walkPresent(reader, target);
  const blobs = new Map(present.map((d) => [d.digest, d.size]));
  let complete = blobs.has(target.digest);
  const configLabels: TargetFacts['configLabels'] = [];
  for (const desc of present) {
    if (isConfig(desc)) configLabels.push(labelsOf(await reader.readConfig(desc)));
    for (const child of await childrenOf(reader, desc)) complete &&= blobs.has(child.digest);
  }

  // GetImage reports its errors by the record's name; a candidate it fails on simply does not match.
  const created = await bestPresentImage(reader, { name: '', target, createdAt: '', updatedAt: '' }, matcher).then(
    (image) => rfc3339Nanos(image.config.created),
    () => undefined,
  );
  const bestConfig = inspect.best?.config;
  return {
    complete,
    manifests: inspect.manifests,
    size: inspect.manifests.reduce((sum, m) => sum + m.totalSize, 0),
    ...(bestConfig ? { best: { created: createdSeconds(bestConfig), labels: labelsOf(bestConfig) } } : {}),
    ...(created !== undefined ? { created } : {}),
    chains,
    blobs,
    configLabels,
  };
}

/** containerd's images.IsConfigType. */
function isConfig(desc: Descriptor): boolean {
  return desc.mediaType === MediaType.ociConfig || desc.mediaType === MediaType.dockerConfig;
}

/** identity.ChainIDs. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : 'sha256:' + createHash('sha256').update(`${prev} ${diffId}`).digest('hex'));
  }
  return out;
}

/** `config.Labels` as Docker reads it into a map[string]string: absent or null is nil, `{}` is empty. */
function labelsOf(config: ImageConfig | undefined): Record<string, string> | null {
  const labels = config && typeof config === 'object' ? config.config?.Labels : undefined;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return null;
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

function createdSeconds(config: ImageConfig): number {
  const nanos = rfc3339Nanos(config.created);
  return nanos === undefined ? 0 : unixSecondsOf(nanos);
}

// ------------------------------------------------------------------ the list

type RecordFilter = (record: ImageRecord, facts: TargetFacts) => boolean;

/** Docker's setupFilters, in its order (so its errors come in its order). */
async function compileFilters(snapshot: ImageSnapshot, filters: FilterArgs): Promise<RecordFilter> {
  const checks: RecordFilter[] = [];
  for (const [name, after] of [['before', false], ['since', true]] as const) {
    for (const value of filterValues(filters, name)) {
      const record = await resolveImage(snapshot.metadata, value);
      const image = await bestPresentImage(snapshot.reader, record, hostPreferenceMatcher());
      const pivot = rfc3339Nanos(image.config.created);
      if (pivot === undefined) continue;
      checks.push((_, { created }) => created !== undefined && (after ? created > pivot : created < pivot));
    }
  }

  const untils = untilTimes(filters, BigInt(Date.now()) * 1_000_000n, -new Date().getTimezoneOffset() * 60);
  for (const until of untils) checks.push((record) => (rfc3339Nanos(record.createdAt) ?? 0n) < until);

  const labels = labelChecks(filters);
  if (labels.length > 0) checks.push((_, facts) => facts.configLabels.some((l) => labelsMatch(labels, l)));

  if (filters.has('dangling')) {
    const dangling = filterBool(filters, 'dangling', false);
    checks.push((record) => isDangling(record) === dangling);
  }

  const references = filterValues(filters, 'reference');
  if (references.length > 0) {
    checks.push((record) => {
      const { ref } = nameFacts(record.name);
      return ref !== undefined && referenceMatches(references, ref);
    });
  }
  return (record, facts) => checks.every((check) => check(record, facts));
}

interface NameFacts {
  /** ParseNormalizedNamed of the stored name, if it parses. */
  ref?: Reference;
  /** Its familiar string: the RepoTags entry. */
  familiar?: string;
  /** The name as ParseNamed accepts it (canonical), trimmed: the repository of RepoDigests. */
  canonical?: Reference;
}

/** What names yield never changes, and parsing a thousand of them per list is the list's main cost. */
const NAME_FACTS = new Map<string, NameFacts>();
const NAME_FACTS_MAX = 100_000;

function nameFacts(name: string): NameFacts {
  let facts = NAME_FACTS.get(name);
  if (!facts) {
    let ref: Reference | undefined;
    try {
      ref = parseNormalizedNamed(name);
    } catch {
      ref = undefined;
    }
    facts = ref
      ? { ref, familiar: familiarString(ref), ...(referenceString(ref) === name ? { canonical: trimNamed(ref) } : {}) }
      : {};
    if (NAME_FACTS.size >= NAME_FACTS_MAX) NAME_FACTS.clear();
    NAME_FACTS.set(name, facts);
  }
  return facts;
}

/** `repo@digest` in familiar form; undefined for a digest the reference grammar refuses (Docker logs it). */
function repoDigest(repository: Reference, digest: string): string | undefined {
  try {
    return familiarString(withDigest(repository, digest));
  } catch {
    return undefined;
  }
}

/** Docker 28's ImageService.Images over a snapshot: one summary per target, newest first. */
export async function listImages(snapshot: ImageSnapshot, options: ListOptions): Promise<ImageSummary[]> {
  validateFilters(options.filters, ACCEPTED_IMAGE_FILTERS);
  const filter = await compileFilters(snapshot, options.filters);

  // Records come sorted by name, as containerd lists them; the last named one is the one shown.
  const chosen = new Map<string, ImageRecord>();
  const tags = new Map<string, string[]>();
  for (const record of snapshot.records) {
    const facts = snapshot.facts.get(record.target.digest);
    if (!facts || !filter(record, facts)) continue;
    const digest = record.target.digest;
    if (isDangling(record)) {
      if (!chosen.has(digest)) chosen.set(digest, record);
      continue;
    }
    chosen.set(digest, record);
    const { familiar } = nameFacts(record.name);
    if (familiar !== undefined) {
      const list = tags.get(digest);
      if (list) list.push(familiar);
      else tags.set(digest, [familiar]);
    }
  }

  const entries = [...chosen].map(([digest, record]) => {
    const facts = snapshot.facts.get(digest) as TargetFacts;
    return { facts, summary: summarize(record, facts, tags.get(digest), options.manifests) };
  });
  if (options.sharedSize) setSharedSizes(entries);
  return entries.map((e) => e.summary).sort(newestFirst);
}

function summarize(record: ImageRecord, facts: TargetFacts, tags: string[] | undefined, withManifests: boolean): ImageSummary {
  const target = record.target;
  // Object literals of one shape: spreading here costs more than the rest of the list.
  let summary: ImageSummary;
  if (!facts.best) {
    // No platform available: Docker answers the bare target digest as the only RepoDigest.
    summary = {
      id: target.digest,
      parentId: '',
      repoTags: tags ?? null,
      repoDigests: [target.digest],
      created: 0,
      size: facts.size,
      sharedSize: -1,
      labels: null,
      containers: -1,
      descriptor: target,
    };
  } else {
    let repoTags = tags ?? null;
    let repoDigests: string[] | null = null;
    const names = nameFacts(record.name);
    if (names.canonical === undefined) {
      if (!isDangling(record)) repoTags = [...(repoTags ?? []), record.name];
    } else {
      const digested = repoDigest(names.canonical, target.digest);
      if (digested !== undefined) repoDigests = [digested];
    }
    summary = {
      id: target.digest,
      parentId: '',
      repoTags,
      repoDigests,
      created: facts.best.created,
      size: facts.size,
      sharedSize: -1,
      labels: facts.best.labels,
      containers: 0,
      descriptor: target,
    };
  }
  if (withManifests && facts.manifests.length > 0) summary.manifests = facts.manifests;
  return summary;
}

/**
 * computeSharedSize: an image's layers (by chain ID) that the listed images hold more than once,
 * at their unpacked size.
 */
function setSharedSizes(entries: ReadonlyArray<{ facts: TargetFacts; summary: ImageSummary }>): void {
  const holders = new Map<string, number>();
  for (const { facts } of entries) for (const c of facts.chains) holders.set(c.chainId, (holders.get(c.chainId) ?? 0) + 1);
  for (const { facts, summary } of entries) {
    summary.sharedSize = facts.chains.reduce(
      (sum, c) => ((holders.get(c.chainId) ?? 0) > 1 && c.unpacked !== undefined ? sum + c.unpacked : sum),
      0,
    );
  }
}

/** Newest Created first, as Docker sorts; Docker's order among equals is random, Lading's is by Id (the stored rows' order too). */
export function newestFirst(a: ImageSummary, b: ImageSummary): number {
  return b.created - a.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
