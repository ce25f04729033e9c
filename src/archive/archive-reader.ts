import { createHash, type Hash } from 'node:crypto';
import { DigestMismatchError, type BlobInfo, type BlobWriter, type ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import { jsonDepthExceeded } from '../util/go-json-syntax.js';
import type { ExpansionLimits } from '../layers/compression.js';
import { analyzeStoredLayer, followLayerWrite, type FollowedLayer } from '../layers/layer-analysis-pool.js';
import { LAYER_SNIFF_BYTES, looksLikeLayer, type LayerAnalysis } from '../layers/layer-facts.js';
import { readArchiveEntries, type ArchiveBody, type ArchiveEntry } from './archive-entries.js';
import { entryPath, linkTarget } from './entry-path.js';
import type { LayerReadProgress } from './load-progress.js';

/** Archive files read as JSON rather than stored: they describe the archive, not the image. */
export const METADATA_FILES = ['oci-layout', 'index.json', 'manifest.json', 'repositories'] as const;
export type MetadataFile = (typeof METADATA_FILES)[number];

export interface ArchiveContents {
  /** Regular files, by cleaned path, as committed to the store. */
  files: Map<string, BlobInfo>;
  /** Link entries by cleaned path: the archive path they point at, undefined when outside it. */
  links: Map<string, { target: string | undefined; linkname: string }>;
  /** Parsed JSON of the metadata files present at the archive root. */
  metadata: Map<MetadataFile, unknown>;
  /** Layer facts of the blobs that looked like layers, or why they could not be read; still running when read. */
  analyses: Map<string, Promise<LayerAnalysis | Error>>;
  /** Every blob committed, once each, in order. */
  committed: BlobInfo[];
}

export interface ReadArchiveOptions {
  maxJsonBytes: number;
  /** How far a layer may expand while its facts are computed. */
  layerLimits: ExpansionLimits;
  /** How far a compressed archive body may expand. */
  bodyLimits: ExpansionLimits;
  onBlobCommitted?: (blob: BlobInfo) => void;
  /** Stops the layer analyses still running. */
  signal?: AbortSignal;
  /** Stops reading the body: the load was given up (its client went away). */
  bodySignal?: AbortSignal;
  /** Told how far each layer entry has been read. */
  progress?: LayerReadProgress;
}

/**
 * Reads a whole archive in one pass: regular files go into the content store as they stream (their
 * layer facts computed on the way), metadata files are parsed, links are recorded, never followed.
 */
export async function readArchive(body: ArchiveBody, store: ContentStore, options: ReadArchiveOptions): Promise<ArchiveContents> {
  const contents: ArchiveContents = {
    files: new Map(),
    links: new Map(),
    metadata: new Map(),
    analyses: new Map(),
    committed: [],
  };
  const committed = new Set<string>();
  // What each path held, to refuse a second entry at the same path that says something else.
  const seen = new Map<string, string>();
  const remember = (path: string, identity: string): void => {
    const previous = seen.get(path);
    if (previous !== undefined && previous !== identity) {
      throw new InvalidArgumentError(`duplicate archive entry ${JSON.stringify(path)} with different content`);
    }
    if (previous === undefined) {
      if (seen.size >= MAX_ARCHIVE_ENTRIES) {
        throw new InvalidArgumentError(`the archive has more than ${MAX_ARCHIVE_ENTRIES} files and links`);
      }
      nameBytes += path.length;
      if (nameBytes > MAX_NAME_BYTES) {
        throw new InvalidArgumentError(`the names of the archive's entries add up to more than ${MAX_NAME_BYTES} bytes`);
      }
    }
    seen.set(path, identity);
  };
  let nameBytes = 0;

  const settle = (path: string, { info, analysis }: IngestResult): void => {
    noteCommitted(info);
    remember(path, `file\0${info.digest}`);
    contents.files.set(path, info);
    if (analysis) contents.analyses.set(info.digest, analysis);
  };
  const noteCommitted = (info: BlobInfo): void => {
    if (committed.has(info.digest)) return;
    committed.add(info.digest);
    contents.committed.push(info);
    options.onBlobCommitted?.(info);
  };
  // Entries whose blobs are still being committed, in archive order.
  const pending: Array<{ path: string; finished: Promise<IngestResult> }> = [];
  // Settles the oldest `count` pending entries, in order. After a failure the rest are still
  // awaited, so that no commit outlives the import; the first failure in archive order is thrown.
  const settlePending = async (count = pending.length): Promise<void> => {
    let failure: { err: unknown } | undefined;
    for (const { path, finished } of pending.splice(0, count)) {
      try {
        const result = await finished;
        if (failure) noteCommitted(result.info);
        else settle(path, result);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  };

  try {
    for await (const entry of readArchiveEntries(body, options.bodyLimits, options.bodySignal)) {
      const { header } = entry;
      checkNameLength(header.name, 'name');
      if (header.linkname) checkNameLength(header.linkname, 'link target');
      const path = entryPath(header.name);
      // tar-stream gives null for types it does not know (GNU sparse, volume headers...).
      const type: string | null = header.type ?? null;
      // Only regular files, as containerd; a V7 name ending in '/' is a directory.
      const isFile = type === 'file' && !header.name.endsWith('/');
      if (!isFile && type !== 'symlink' && type !== 'link') continue;
      const isMetadata = isFile && (METADATA_FILES as readonly string[]).includes(path);
      // Links and metadata files are checked against what came before them, all of it settled.
      if (!isFile || isMetadata) await settlePending();

      if (!isFile) {
        const linkname = header.linkname ?? '';
        remember(path, `${type}\0${linkname}`);
        contents.links.set(path, { target: linkTarget(path, linkname, type as 'symlink' | 'link'), linkname });
        contents.files.delete(path);
        continue;
      }
      contents.links.delete(path);

      if (isMetadata) {
        const { data, value } = await readJsonEntry(entry, path, options.maxJsonBytes);
        remember(path, `file\0${createHash('sha256').update(data).digest('hex')}`);
        contents.metadata.set(path as MetadataFile, value);
        continue;
      }

      const { finished } = await ingestEntry(entry, path, store, options);
      pending.push({ path, finished });
      if (pending.length > MAX_PENDING_COMMITS) await settlePending(1);
    }
    await settlePending();
  } catch (err) {
    // What failed before this (in archive order) is the archive's first fault.
    await settlePending();
    throw err;
  }
  return contents;
}

/**
 * Blobs whose fsync and rename may still run while the archive reads on. Each takes a thread of
 * libuv's pool (4) while it syncs; gunzip and the file writes need the others.
 */
const MAX_PENDING_COMMITS = 2;

/** Linux's PATH_MAX: no image archive needs longer names, and each one is kept in memory. */
const MAX_ENTRY_NAME_BYTES = 4096;
/** Files and links kept track of in one archive, and the bytes of their names. */
const MAX_ARCHIVE_ENTRIES = 500_000;
const MAX_NAME_BYTES = 64 * 1024 * 1024;

function checkNameLength(name: string, what: string): void {
  if (Buffer.byteLength(name) > MAX_ENTRY_NAME_BYTES) {
    throw new InvalidArgumentError(
      `archive entry ${what} is longer than ${MAX_ENTRY_NAME_BYTES} bytes: ${JSON.stringify(name.slice(0, 100))}...`,
    );
  }
}

async function readJsonEntry(entry: ArchiveEntry, path: string, maxBytes: number): Promise<{ data: Buffer; value: unknown }> {
  const size = entry.header.size ?? 0;
  if (size > maxBytes) {
    throw new InvalidArgumentError(`${path} in the archive is ${size} bytes, more than the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry.chunks()) chunks.push(chunk);
  const data = Buffer.concat(chunks);
  return { data, value: parseJson(data, path) };
}

export function parseJson(data: Buffer, what: string): unknown {
  const text = data.toString('utf8');
  // Go's decoder refuses nesting deeper than 10000; so does this, before anything walks it.
  if (jsonDepthExceeded(text)) throw new InvalidArgumentError(`invalid JSON in ${what}: exceeded max depth`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON in ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** `blobs/<alg>/<hex>` of an OCI layout: the content must hash to the name. */
const BLOB_PATH = /^blobs\/(sha256|sha384|sha512)\/([a-f0-9]+)$/;

interface IngestResult {
  info: BlobInfo;
  analysis: Promise<LayerAnalysis | Error> | undefined;
}

/**
 * Streams one entry into the store and returns once its data is read; what is left (the blob's
 * fsync and rename, then its layer analysis) goes on in `finished` while the archive reads on.
 */
async function ingestEntry(
  entry: ArchiveEntry,
  path: string,
  store: ContentStore,
  { layerLimits: limits, signal, progress }: ReadArchiveOptions,
): Promise<{ finished: Promise<IngestResult> }> {
  const named = BLOB_PATH.exec(path);
  // The store hashes with sha256 anyway: a blob named by it is checked at commit, hashed once.
  const verifier = named && named[1] !== 'sha256' ? createHash(named[1]!) : undefined;
  const writer: BlobWriter = await store.openWriter();
  // The first bytes, to tell whether this is a layer.
  const head: Buffer[] = [];
  let headLength = 0;
  const size = entry.header.size ?? 0;
  // Whether the entry is a layer, once its head says so; until then, undefined.
  let layer: boolean | undefined;
  // A large layer is analysed on the analysis worker as it is written: see followLayerWrite.
  let followed: FollowedLayer | undefined;
  try {
    for await (const chunk of entry.chunks()) {
      verifier?.update(chunk);
      if (layer) progress?.layerRead(path, chunk.byteLength);
      if (headLength < LAYER_SNIFF_BYTES) {
        head.push(chunk);
        headLength += chunk.byteLength;
        if (headLength >= LAYER_SNIFF_BYTES) {
          layer = looksLikeLayer(Buffer.concat(head));
          if (layer) progress?.layerStarted(path, size, headLength);
          if (layer) followed = followLayerWrite(writer, size, limits, signal);
        }
      }
      // Only waits when the disk is too far behind.
      await writer.write(chunk);
    }
  } catch (err) {
    followed?.abort();
    await writer.abort();
    throw err;
  }
  const isLayer = layer ?? looksLikeLayer(Buffer.concat(head));
  if (isLayer && layer === undefined) progress?.layerStarted(path, size, headLength);
  if (isLayer) progress?.layerEnded(path);
  const following = followed?.end(writer.written).catch((err: Error) => err);
  const finished = finishEntry(entry, path, named, verifier, writer).then(
    (info) => ({
      info,
      // Layers are analysed on the analysis pool's worker, the large ones while they are written,
      // the others once stored: a layer unpacks while the archive reads on, and two unpack at once,
      // where a single stream unpacked them one by one.
      analysis: following ?? (isLayer ? analyzeStoredLayer(store, info, limits, signal).catch((err: Error) => err) : undefined),
    }),
    (err: unknown) => {
      followed?.abort();
      throw err;
    },
  );
  // Awaited later, in archive order; until then a failure must not count as unhandled.
  finished.catch(() => undefined);
  return { finished };
}

async function finishEntry(
  entry: ArchiveEntry,
  path: string,
  named: RegExpExecArray | null,
  verifier: Hash | undefined,
  writer: BlobWriter,
): Promise<BlobInfo> {
  try {
    const expected = named ? `${named[1]}:${named[2]}` : undefined;
    const nameSays = (actual: string): InvalidArgumentError =>
      new InvalidArgumentError(`blob ${path} in the archive has digest ${actual}, but its name says ${expected}`);
    if (verifier) {
      const actual = `${named![1]}:${verifier.digest('hex')}`;
      if (actual !== expected) throw nameSays(actual);
    }
    try {
      return await writer.commit({ size: entry.header.size, ...(named && !verifier ? { digest: expected } : {}) });
    } catch (err) {
      if (err instanceof DigestMismatchError) throw nameSays(err.actual);
      throw err;
    }
  } finally {
    await writer.abort();
  }
}
