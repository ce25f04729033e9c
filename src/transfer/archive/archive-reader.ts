import { createHash } from 'node:crypto';
import type { BlobInfo, BlobWriter, ContentStore } from '../../content/content-store.js';
import { InvalidArgumentError } from '../../errors.js';
import { LAYER_SNIFF_BYTES, LayerAnalyzer, looksLikeLayer, type LayerAnalysis } from '../layer-facts.js';
import { readArchiveEntries, type ArchiveBody, type ArchiveEntry } from './archive-entries.js';
import { entryPath, linkTarget } from './entry-path.js';

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
  /** Layer facts of the blobs that looked like layers, or why they could not be read. */
  analyses: Map<string, LayerAnalysis | Error>;
  /** Every blob committed, once each, in order. */
  committed: BlobInfo[];
}

export interface ReadArchiveOptions {
  maxJsonBytes: number;
  onBlobCommitted?: (blob: BlobInfo) => void;
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

  for await (const entry of readArchiveEntries(body)) {
    const { header } = entry;
    const path = entryPath(header.name);
    // tar-stream gives null for types it does not know (GNU sparse, volume headers...).
    const type: string | null = header.type ?? null;
    // Only regular files, as containerd; a V7 name ending in '/' is a directory.
    const isFile = type === 'file' && !header.name.endsWith('/');

    if (type === 'symlink' || type === 'link') {
      const linkname = header.linkname ?? '';
      contents.links.set(path, { target: linkTarget(path, linkname, type), linkname });
      contents.files.delete(path);
      continue;
    }
    if (!isFile) continue;
    contents.links.delete(path);

    if ((METADATA_FILES as readonly string[]).includes(path)) {
      contents.metadata.set(path as MetadataFile, await readJsonEntry(entry, path, options.maxJsonBytes));
      continue;
    }

    const { info, analysis } = await ingestEntry(entry, path, store);
    contents.files.set(path, info);
    if (analysis) contents.analyses.set(info.digest, analysis);
    if (!committed.has(info.digest)) {
      committed.add(info.digest);
      contents.committed.push(info);
      options.onBlobCommitted?.(info);
    }
  }
  return contents;
}

async function readJsonEntry(entry: ArchiveEntry, path: string, maxBytes: number): Promise<unknown> {
  const size = entry.header.size ?? 0;
  if (size > maxBytes) {
    throw new InvalidArgumentError(`${path} in the archive is ${size} bytes, more than the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry.chunks()) chunks.push(chunk);
  return parseJson(Buffer.concat(chunks), path);
}

export function parseJson(data: Buffer, what: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON in ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** `blobs/<alg>/<hex>` of an OCI layout: the content must hash to the name. */
const BLOB_PATH = /^blobs\/(sha256|sha384|sha512)\/([a-f0-9]+)$/;

async function ingestEntry(
  entry: ArchiveEntry,
  path: string,
  store: ContentStore,
): Promise<{ info: BlobInfo; analysis: LayerAnalysis | Error | undefined }> {
  const named = BLOB_PATH.exec(path);
  const verifier = named ? createHash(named[1]!) : undefined;
  const writer: BlobWriter = await store.openWriter();
  // Undefined until enough bytes were seen to tell whether this is a layer.
  let analyzer: LayerAnalyzer | null | undefined;
  let head: Buffer[] = [];
  let headLength = 0;
  try {
    for await (const chunk of entry.chunks()) {
      verifier?.update(chunk);
      let forAnalyzer: Buffer | undefined = chunk;
      if (analyzer === undefined) {
        head.push(chunk);
        headLength += chunk.byteLength;
        forAnalyzer = undefined;
        if (headLength >= LAYER_SNIFF_BYTES) {
          forAnalyzer = Buffer.concat(head);
          head = [];
          analyzer = looksLikeLayer(forAnalyzer) ? new LayerAnalyzer() : null;
        }
      }
      await Promise.all([writer.write(chunk), forAnalyzer && analyzer ? analyzer.write(forAnalyzer) : undefined]);
    }
    if (analyzer === undefined) {
      const rest = Buffer.concat(head);
      analyzer = looksLikeLayer(rest) ? new LayerAnalyzer() : null;
      await analyzer?.write(rest);
    }

    if (named && verifier) {
      const expected = `${named[1]}:${named[2]}`;
      const actual = `${named[1]}:${verifier.digest('hex')}`;
      if (actual !== expected) {
        throw new InvalidArgumentError(`blob ${path} in the archive has digest ${actual}, but its name says ${expected}`);
      }
    }

    let analysis: LayerAnalysis | Error | undefined;
    if (analyzer) {
      analysis = await analyzer.end().catch((err: Error) => err);
      analyzer = null;
    }
    const info = await writer.commit({ size: entry.header.size });
    return { info, analysis };
  } finally {
    analyzer?.abort();
    await writer.abort();
  }
}
