/**
 * The files of a layer, as its tar lists them: read once from the content store, decompressed under
 * the daemon's ImportLimits, headers only (layers/tar-entry-reader.ts), and kept. A layer never
 * changes for its digest, so the listing is written to `<dir>/<hex>.ndjson` the first time and every
 * later look (another image, another start of the daemon) reads that file.
 */
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { ContentStore } from '../content/content-store.js';
import { InvalidArgumentError } from '../errors.js';
import type { ImportLimits } from '../layers/compression.js';
import { layerTar } from '../layers/layer-tar-stream.js';
import { TarEntryReader, type TarEntry } from '../layers/tar-entry-reader.js';
import { TarFormatError } from '../layers/tar-block-walker.js';
import type { FileKind } from './explorer-api-types.js';

/** One entry of a layer; `whiteout` removes `path` from the layers below, `opaque` empties the directory `path`. */
export interface LayerFile {
  path: string;
  kind: FileKind | 'whiteout' | 'opaque';
  size: number;
  mode: number;
  link?: string;
}

const KINDS: Record<string, FileKind> = { '0': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** Listings parsed and held in memory, the most recent ones (an image's layers, a comparison's). */
const MEMORY_ENTRIES = 16;

/** `./usr/bin/` → `usr/bin`; '' for the root. */
export function normalizePath(name: string): string {
  return path.posix
    .normalize(`/${name}`)
    .replace(/^\/+|\/+$/g, '')
    .replace(/^\.$/, '');
}

/** A tar header as a layer file, whiteouts (overlayfs' AUFS-style names, as the OCI spec has them) recognised. */
export function layerFileOf(entry: TarEntry): LayerFile | undefined {
  const p = normalizePath(entry.name);
  if (p === '') return undefined;
  const base = path.posix.basename(p);
  const dir = path.posix.dirname(p);
  if (base === OPAQUE) return { path: dir === '.' ? '' : dir, kind: 'opaque', size: 0, mode: 0 };
  if (base.startsWith(WHITEOUT)) {
    const target = base.slice(WHITEOUT.length);
    return { path: dir === '.' ? target : `${dir}/${target}`, kind: 'whiteout', size: 0, mode: 0 };
  }
  const kind = KINDS[entry.type];
  if (!kind) return undefined;
  return { path: p, kind, size: entry.size, mode: entry.mode, ...(entry.linkname ? { link: entry.linkname } : {}) };
}

export class LayerListings {
  private readonly memory = new Map<string, LayerFile[]>();
  private readonly computing = new Map<string, Promise<void>>();
  /** Listings computed from a blob (not read back from a kept file), for tests and the bench. */
  computed = 0;

  constructor(
    private readonly content: Pick<ContentStore, 'createReadStream'>,
    private readonly limits: ImportLimits,
    /** Where listings are kept; a temp folder of the process when the store has none. */
    private readonly dir: string,
  ) {}

  /** The kept listing's file (NDJSON, one LayerFile a line), computed first when there is none. */
  async listingFile(digest: string): Promise<string> {
    const file = this.fileOf(digest);
    if (await fs.access(file).then(() => true, () => false)) return file;
    let pending = this.computing.get(digest);
    if (!pending) {
      pending = this.compute(digest, file).finally(() => this.computing.delete(digest));
      this.computing.set(digest, pending);
    }
    await pending;
    return file;
  }

  /** Every entry of the layer, in tar order. */
  async files(digest: string): Promise<LayerFile[]> {
    const held = this.memory.get(digest);
    if (held) {
      this.memory.delete(digest);
      this.memory.set(digest, held);
      return held;
    }
    const file = await this.listingFile(digest);
    const files: LayerFile[] = [];
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (line !== '') files.push(JSON.parse(line) as LayerFile);
    }
    this.memory.set(digest, files);
    if (this.memory.size > MEMORY_ENTRIES) this.memory.delete(this.memory.keys().next().value as string);
    return files;
  }

  /**
   * Removes kept listings whose layer the store no longer has (and temp files a crash left): run in
   * the background at start; a listing asked for meanwhile is computed again if need be.
   */
  async removeStale(has: (digest: string) => Promise<boolean>): Promise<number> {
    let removed = 0;
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      const m = /^([a-f0-9]{64})\.ndjson$/.exec(name);
      if (m && (await has(`sha256:${m[1]}`))) continue;
      if (this.computing.size > 0 && !m) continue;
      await fs.rm(path.join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  private fileOf(digest: string): string {
    const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
    if (!m) throw new InvalidArgumentError(`invalid layer digest ${JSON.stringify(digest)}`);
    return path.join(this.dir, `${m[1]}.ndjson`);
  }

  /** Streams the layer into a temp file beside the kept one, renamed into place when whole. */
  private async compute(digest: string, file: string): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    const out = await fs.open(temp, 'w');
    try {
      let lines: string[] = [];
      const reader = new TarEntryReader((entry) => {
        const f = layerFileOf(entry);
        if (f) lines.push(JSON.stringify(f));
      });
      for await (const chunk of layerTar(this.content.createReadStream(digest), this.limits, `layer ${digest}`)) {
        try {
          reader.update(chunk);
        } catch (err) {
          if (err instanceof TarFormatError) throw new InvalidArgumentError(`layer ${digest}: ${err.message}`);
          throw err;
        }
        if (lines.length >= 1024) {
          await out.write(lines.join('\n') + '\n');
          lines = [];
        }
      }
      reader.finish();
      if (lines.length > 0) await out.write(lines.join('\n') + '\n');
      await out.close();
      await fs.rename(temp, file);
      this.computed++;
    } catch (err) {
      await out.close().catch(() => undefined);
      await fs.rm(temp, { force: true });
      throw err;
    }
  }
}
