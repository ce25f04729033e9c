import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  COMPRESSION_MAGIC_BYTES,
  createDecompressor,
  detectCompression,
  ExpansionError,
  ExpansionGuard,
  type Compression,
  type ExpansionLimits,
} from './compression.js';
import { TarSizeCounter } from './tar-size-counter.js';

export type LayerCompression = 'none' | 'gzip' | 'zstd';

export interface LayerAnalysis {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Sum of the sizes of the regular files in the tar. */
  unpackedSize: number;
  compression: LayerCompression;
}

/** Compressed bytes gathered before a write to the decoder. */
const INPUT_BATCH = 1024 * 1024;

/** Where the `ustar` magic sits in a tar header. */
const USTAR_OFFSET = 257;
/** Bytes `looksLikeLayer` wants to see before deciding (fewer only at the end of a blob). */
export const LAYER_SNIFF_BYTES = USTAR_OFFSET + 5;

/** A layer blob starts with gzip or zstd magic, or is a tar with a ustar header. */
export function looksLikeLayer(head: Uint8Array): boolean {
  const compression = detectCompression(head);
  if (compression === 'gzip' || compression === 'zstd') return true;
  return (
    head.length >= LAYER_SNIFF_BYTES &&
    Buffer.from(head.buffer, head.byteOffset + USTAR_OFFSET, 5).toString('latin1') === 'ustar'
  );
}

/**
 * A layer's analysis fed its blob bytes in order while they arrive (a pull's download): here, or on
 * the analysis pool's worker thread (`layer-analysis-pool.ts`).
 */
export interface LayerStreamAnalysis {
  /** Set once the layer has expanded past the limits: a caller still reading its blob should stop. */
  readonly refusal: ExpansionError | undefined;
  /** Never rejects for the data: `end` says what was wrong with it. Resolves when more may be written. */
  write(chunk: Uint8Array): Promise<void>;
  /** Finishes the analysis; throws when the blob is not a readable layer. */
  end(): Promise<LayerAnalysis>;
  /** Releases what the analysis holds when it is abandoned. */
  abort(): void;
}

/**
 * Computes a layer's diffID and unpacked size from its blob bytes, fed in order. `write` never
 * rejects: a broken layer (bad compression, not a tar) is reported by `end`, so a caller that
 * stores the blob at the same time is not interrupted by data that may not even be a layer.
 */
export class LayerAnalyzer implements LayerStreamAnalysis {
  private head: Buffer[] = [];
  private headLength = 0;
  private compression: Compression | undefined;
  private decompressor: Duplex | undefined;
  private readonly hash = createHash('sha256');
  private readonly counter = new TarSizeCounter();
  private failure: Error | undefined;
  private readonly waiting = new Set<() => void>();
  /** Input not yet handed to the decoder (see feed). */
  private batch: Uint8Array[] = [];
  private batchLength = 0;
  /** Output not yet hashed nor parsed (see consume). */
  private readonly unhashed: Uint8Array[] = [];
  private ended = false;
  /** Refuses a layer that expands too far (a decompression bomb) once it has. */
  private readonly guard: ExpansionGuard;

  constructor(limits: ExpansionLimits) {
    this.guard = new ExpansionGuard(limits, 'layer');
  }

  /** Set once the layer has expanded past the limits: a caller still reading its blob should stop. */
  get refusal(): ExpansionError | undefined {
    return this.failure instanceof ExpansionError ? this.failure : undefined;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.ended) throw new Error('write after end');
    if (this.failure || chunk.byteLength === 0) return;
    if (this.compression === undefined) {
      this.head.push(Buffer.from(chunk));
      this.headLength += chunk.byteLength;
      if (this.headLength < COMPRESSION_MAGIC_BYTES) return;
      const head = Buffer.concat(this.head);
      this.head = [];
      this.start(head);
      await this.feed(head);
      return;
    }
    await this.feed(chunk);
  }

  /** Finishes the analysis; throws when the blob is not a readable layer. */
  async end(): Promise<LayerAnalysis> {
    if (this.ended) throw new Error('end called twice');
    if (this.compression === undefined) {
      const head = Buffer.concat(this.head);
      this.head = [];
      this.start(head);
      await this.feed(head);
    }
    this.ended = true;
    if (this.decompressor && !this.failure) {
      await this.writeBatch(this.decompressor);
      if (!this.failure) await this.finishDecompressor(this.decompressor);
    }
    this.hashOutput();
    if (!this.failure) {
      try {
        this.counter.finish();
      } catch (err) {
        this.fail(err);
      }
    }
    if (this.failure) throw this.failure;
    return {
      diffId: 'sha256:' + this.hash.digest('hex'),
      unpackedSize: this.counter.size,
      compression: this.compression as LayerCompression,
    };
  }

  /** Releases the decompressor when the analysis is abandoned. */
  abort(): void {
    this.ended = true;
    this.decompressor?.destroy();
    this.releaseWaiters();
  }

  private start(head: Buffer): void {
    this.compression = detectCompression(head);
    if (this.compression === 'xz' || this.compression === 'bzip2') {
      this.fail(new Error(`unsupported layer compression: ${this.compression}`));
      return;
    }
    if (this.compression === 'none') return;
    const decompressor = createDecompressor(this.compression);
    decompressor.on('data', (data: Buffer) => this.consume(data));
    decompressor.on('error', (err) => {
      this.fail(err);
      this.releaseWaiters();
    });
    this.decompressor = decompressor;
  }

  private async feed(chunk: Buffer | Uint8Array): Promise<void> {
    if (this.failure || chunk.byteLength === 0) return;
    const decompressor = this.decompressor;
    if (!decompressor) {
      this.guard.input(chunk.byteLength);
      this.consume(chunk);
      return;
    }
    // The decoder gets batches: every write is a round trip to the thread pool, and callers may
    // hand over small chunks (a file or socket stream's 64 KiB reads).
    this.batch.push(chunk);
    this.batchLength += chunk.byteLength;
    if (this.batchLength >= INPUT_BATCH) await this.writeBatch(decompressor);
  }

  private async writeBatch(decompressor: Duplex): Promise<void> {
    if (this.batchLength === 0) return;
    const batch = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchLength);
    this.guard.input(this.batchLength);
    this.batch = [];
    this.batchLength = 0;
    // Queued up to the decoder's high-water mark, so that the caller's next chunk overlaps it.
    // zstd decodes inside write(): it may have failed (and released every waiter) already.
    if (decompressor.write(batch) || this.failure || decompressor.destroyed) return;
    await new Promise<void>((resolve) => {
      const drained = (): void => {
        this.waiting.delete(drained);
        decompressor.off('drain', drained);
        resolve();
      };
      this.waiting.add(drained);
      decompressor.on('drain', drained);
    });
  }

  private consume(data: Uint8Array): void {
    if (this.failure) return;
    const tooFar = this.guard.output(data.byteLength);
    if (tooFar) {
      this.failure = tooFar;
      this.decompressor?.destroy();
      this.releaseWaiters();
      return;
    }
    // Hashed and parsed a moment later, once zlib has handed its next chunk to the thread pool, so
    // that inflating the next chunk and hashing this one overlap (zlib has one chunk in flight).
    this.unhashed.push(data);
    if (this.unhashed.length === 1) queueMicrotask(this.hashOutput);
  }

  private readonly hashOutput = (): void => {
    const pending = this.unhashed.splice(0);
    if (this.failure) return;
    for (const data of pending) {
      this.hash.update(data);
      try {
        this.counter.update(data);
      } catch (err) {
        this.fail(err);
        this.decompressor?.destroy();
        this.releaseWaiters();
        return;
      }
    }
  };

  private finishDecompressor(decompressor: Duplex): Promise<void> {
    return new Promise((resolve) => {
      decompressor.once('end', resolve);
      decompressor.once('error', () => resolve());
      decompressor.once('close', () => resolve());
      decompressor.end();
    });
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    const message = err instanceof Error ? err.message : String(err);
    this.failure = new Error(message, { cause: err });
  }

  private releaseWaiters(): void {
    for (const resolve of this.waiting) resolve();
    this.waiting.clear();
  }
}

/** Analyzes a whole blob from a stream: a stored layer, on the analysis worker or on this thread. */
export async function analyzeLayer(source: AsyncIterable<Uint8Array | string>, limits: ExpansionLimits): Promise<LayerAnalysis> {
  const analyzer = new LayerAnalyzer(limits);
  try {
    for await (const chunk of source) {
      await analyzer.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
  } catch (err) {
    analyzer.abort();
    throw err;
  }
  return analyzer.end();
}
