import { Readable, type Duplex } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { InvalidArgumentError } from '../errors.js';
import { createCommandDecompressor } from './command-decompressor.js';
import { createZstdDecompressor } from './zstd-decompressor.js';

/** Compression formats recognised by their magic bytes, as containerd's DetectCompression does. */
export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** Bytes needed to tell every format apart. */
export const COMPRESSION_MAGIC_BYTES = 6;

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2 = [0x42, 0x5a, 0x68];

function startsWith(head: Uint8Array, magic: number[]): boolean {
  return head.length >= magic.length && magic.every((byte, i) => head[i] === byte);
}

export function detectCompression(head: Uint8Array): Compression {
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, ZSTD)) return 'zstd';
  if (startsWith(head, XZ)) return 'xz';
  if (startsWith(head, BZIP2)) return 'bzip2';
  return 'none';
}

/** The first chunks of a stream, enough to tell its compression, and whether the stream ended within them. */
export interface StreamHead<B extends Uint8Array> {
  compression: Compression;
  head: B[];
  ended: boolean;
}

/**
 * Reads chunks of `source` until COMPRESSION_MAGIC_BYTES have come (fewer only when it ends sooner)
 * and tells their compression; the caller goes on with `head`, then the rest of `source`.
 */
export async function readStreamHead<T, B extends Uint8Array>(source: AsyncIterator<T>, bytes: (chunk: T) => B): Promise<StreamHead<B>> {
  const head: B[] = [];
  let length = 0;
  while (length < COMPRESSION_MAGIC_BYTES) {
    const next = await source.next();
    if (next.done) return { compression: detectCompression(Buffer.concat(head)), head, ended: true };
    const chunk = bytes(next.value);
    head.push(chunk);
    length += chunk.byteLength;
  }
  return { compression: detectCompression(Buffer.concat(head)), head, ended: false };
}

/**
 * A decompressing stream for gzip (zlib, multi-member), zstd (zstd-decompressor.ts), or xz and
 * bzip2 (the system's commands, command-decompressor.ts: archive and import bodies only).
 * Errors carry the message of the decoder; callers decide what they mean.
 */
export function createDecompressor(compression: Exclude<Compression, 'none'>): Duplex {
  switch (compression) {
    case 'gzip':
      // zlib hands its options to Transform too, where the high-water mark means what it says.
      return createGunzip({ chunkSize: GUNZIP_CHUNK, writableHighWaterMark: GUNZIP_INPUT_HIGH_WATER } as ZlibOptions);
    case 'zstd':
      return createZstdDecompressor();
    default:
      return createCommandDecompressor(compression);
  }
}

/**
 * zlib's output chunk: each is one round trip to the thread pool, and its default 16 KiB made
 * gunzip of image layers 4-8 times slower than 256 KiB (README, Performance).
 */
const GUNZIP_CHUNK = 256 * 1024;
/** Compressed input queued ahead of the decoder, so that it never waits for the next chunk. */
const GUNZIP_INPUT_HIGH_WATER = 1024 * 1024;

/** How far decompression may go before the input is taken for a bomb. */
export interface ExpansionLimits {
  /** Most bytes the decompressed stream may have (a layer's tar); unlimited when absent. */
  maxBytes?: number;
  /** Most output bytes per input byte, once the output is past `ratioFloor`; 0 or absent: no limit. */
  maxRatio?: number;
  /** Output below this is never refused for its ratio (default 1 GiB). */
  ratioFloor?: number;
}

export const DEFAULT_RATIO_FLOOR = 1024 ** 3;

/**
 * The daemon's decompression limits (--max-unpacked-layer-size, --max-decompression-ratio), handed
 * explicitly to everything that decompresses what a client or a registry sent: a load's body and
 * layers, a pull's layers.
 */
export interface ImportLimits {
  /** Bytes a layer's uncompressed tar may have. */
  maxUnpackedLayerSize?: number;
  /** Output bytes per input byte, past `ratioFloor`, for layers and a compressed body; 0: none. */
  maxDecompressionRatio?: number;
  /** Output below which the ratio is not looked at (default 1 GiB). */
  ratioFloor?: number;
}

export const DEFAULT_MAX_UNPACKED_LAYER_SIZE = 64 * 1024 ** 3;
export const DEFAULT_MAX_DECOMPRESSION_RATIO = 1000;

/** The flags' defaults. */
export const DEFAULT_IMPORT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  maxUnpackedLayerSize: DEFAULT_MAX_UNPACKED_LAYER_SIZE,
  maxDecompressionRatio: DEFAULT_MAX_DECOMPRESSION_RATIO,
});

/** How far one layer may expand: both limits. */
export function layerExpansion(limits: ImportLimits): ExpansionLimits {
  return { maxBytes: limits.maxUnpackedLayerSize, ...bodyExpansion(limits) };
}

/** How far a compressed archive body may expand: the ratio only (the archive holds many layers). */
export function bodyExpansion(limits: ImportLimits): ExpansionLimits {
  return { maxRatio: limits.maxDecompressionRatio, ratioFloor: limits.ratioFloor };
}

/** A stream refused for expanding too far: the input's fault, so a 4xx. */
export class ExpansionError extends InvalidArgumentError {}

/**
 * Counts what goes into and comes out of a decompressor; `check` says when the limits are passed.
 * `what` names the stream in the message ("layer", "archive").
 */
export class ExpansionGuard {
  private in = 0;
  private out = 0;

  constructor(
    private readonly limits: ExpansionLimits,
    private readonly what: string,
  ) {}

  get inputBytes(): number {
    return this.in;
  }

  get outputBytes(): number {
    return this.out;
  }

  input(bytes: number): void {
    this.in += bytes;
  }

  /** Adds output; returns the error to fail with when a limit is passed. */
  output(bytes: number): ExpansionError | undefined {
    this.out += bytes;
    const { maxBytes, maxRatio } = this.limits;
    if (maxBytes !== undefined && this.out > maxBytes) {
      return new ExpansionError(
        `${this.what} expands to more than ${maxBytes} bytes uncompressed (the limit of --max-unpacked-layer-size)`,
      );
    }
    const floor = this.limits.ratioFloor ?? DEFAULT_RATIO_FLOOR;
    if (maxRatio && this.out > floor && this.out > maxRatio * Math.max(this.in, 1)) {
      return new ExpansionError(
        `${this.what} expands more than ${maxRatio} times (${this.in} compressed bytes to more than ${this.out}): refused as a decompression bomb (the limit of --max-decompression-ratio)`,
      );
    }
    return undefined;
  }
}

/**
 * `body` through the decoder of `compression`, held to `limits` (the output past them fails with
 * an ExpansionError naming `what`); another failure of the decoder is `failure(its message)`.
 * Stopping early releases the decoder (and kills a command's process).
 */
export async function* decompressIterable(
  body: AsyncIterable<Uint8Array>,
  compression: Exclude<Compression, 'none'>,
  limits: ExpansionLimits,
  what: string,
  failure: (message: string) => Error,
): AsyncGenerator<Buffer> {
  const decoder = createDecompressor(compression);
  const guard = new ExpansionGuard(limits, what);
  const source = Readable.from(body, { objectMode: false });
  const sourceErrors = new WeakSet<object>();
  source.on('data', (chunk: Buffer) => guard.input(chunk.byteLength));
  source.on('error', (err) => {
    sourceErrors.add(err);
    decoder.destroy(err);
  });
  source.pipe(decoder);
  try {
    for await (const chunk of decoder as AsyncIterable<Buffer>) {
      const tooFar = guard.output(chunk.byteLength);
      if (tooFar) throw tooFar;
      yield chunk;
    }
  } catch (err) {
    if (err instanceof ExpansionError || (typeof err === 'object' && err !== null && sourceErrors.has(err))) throw err;
    throw failure(err instanceof Error ? err.message : String(err));
  } finally {
    source.destroy();
    decoder.destroy();
  }
}
