import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';

/**
 * Which zstd decoder a stream uses: Node's own zlib zstd where the running Node has it (22.15 and
 * later; on libuv's pool, like gunzip), else zstd-napi (libzstd built from the package's bundled
 * sources by node-gyp at install: never a downloaded binary), else fzstd, pure JavaScript and
 * several times slower, only when neither loads.
 */
export type ZstdDecoder = 'node:zlib' | 'zstd-napi' | 'fzstd';

/** The part of zstd-napi's binding used here: ZSTD_decompressStream. */
interface NativeBinding {
  DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [hint: number, produced: number, consumed: number] };
}

type ZlibWithZstd = { createZstdDecompress?: () => Transform };

let native: NativeBinding | null | undefined;

function nativeBinding(): NativeBinding | undefined {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('zstd-napi/binding') as NativeBinding;
    } catch {
      native = null;
    }
  }
  return native ?? undefined;
}

/** The decoders that load in this process, best first. */
export function availableZstdDecoders(): ZstdDecoder[] {
  const found: ZstdDecoder[] = [];
  if (typeof (zlib as ZlibWithZstd).createZstdDecompress === 'function') found.push('node:zlib');
  if (nativeBinding()) found.push('zstd-napi');
  found.push('fzstd');
  return found;
}

let best: ZstdDecoder | undefined;

/** The decoder `createZstdDecompressor` uses by default. */
export function zstdDecoder(): ZstdDecoder {
  return (best ??= availableZstdDecoders()[0]!);
}

/**
 * zstd as a Transform: compressed bytes in, decompressed bytes out, with backpressure that holds
 * however far the data expands (a zstd bomb cannot fill memory behind a slow reader). The one
 * place that knows the decoders. Errors read `zstd: …`.
 */
export function createZstdDecompressor(decoder: ZstdDecoder = zstdDecoder()): Transform {
  switch (decoder) {
    case 'node:zlib': {
      const stream = (zlib as ZlibWithZstd).createZstdDecompress!();
      stream.prependListener('error', (err: Error) => {
        if (!err.message.startsWith('zstd: ')) err.message = `zstd: ${err.message}`;
      });
      return stream;
    }
    case 'zstd-napi':
      return new NativeZstdDecompressor(nativeBinding()!);
    case 'fzstd':
      return new FzstdDecompressor();
  }
}

/**
 * Feeds each input chunk to a synchronous decoder one step at a time, and stops stepping while the
 * reader is behind: a step's output is bounded (fzstd: 1 KiB of input, at most 32 MiB out; libzstd:
 * one output buffer), and feeding stops as soon as the stream is destroyed (a reader that gave up).
 */
abstract class PacedDecoder extends Transform {
  /** False from a push that filled the readable buffer until the next `_read`. */
  protected wantsMore = true;
  /** The rest of a chunk whose feeding waits for the reader. */
  private waiting: (() => void) | undefined;
  /** Output pushed since feeding last gave the event loop a turn. */
  private sinceYield = 0;

  /** Hands decoded bytes to the reader. */
  protected output(data: Buffer): void {
    this.sinceYield += data.byteLength;
    this.wantsMore = this.push(data);
  }

  /** Decodes from `chunk` at `offset` on; says where the input goes on and whether the chunk is done. */
  protected abstract step(chunk: Buffer, offset: number): { offset: number; done: boolean };
  /** The end of the input: throws when it cuts a frame. */
  protected abstract finish(): void;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.feed(chunk, 0, callback);
  }

  private feed(chunk: Buffer, start: number, callback: TransformCallback): void {
    let offset = start;
    try {
      for (;;) {
        if (this.destroyed) return;
        // Waits only after a push said the buffer is full: that push cleared the readable side's
        // `reading` flag, so the reader's next read calls `_read`, which goes on here. Waiting on
        // the buffer's length instead could wait for a `_read` that never comes (issue 12).
        if (!this.wantsMore) {
          const rest = offset;
          this.waiting = () => this.feed(chunk, rest, callback);
          return;
        }
        // A reader in flowing mode takes every push at once and may defer its work (a hash in a
        // microtask): without a turn of the event loop now and then, one chunk that expands 80
        // times (text layers) would all be held before that work runs.
        if (this.sinceYield >= YIELD_BYTES) {
          this.sinceYield = 0;
          const rest = offset;
          setImmediate(() => this.feed(chunk, rest, callback));
          return;
        }
        const stepped = this.step(chunk, offset);
        offset = stepped.offset;
        if (stepped.done) break;
      }
    } catch (err) {
      callback(zstdError(err));
      return;
    }
    callback();
  }

  override _read(size: number): void {
    this.wantsMore = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
    super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.finish();
      callback();
    } catch (err) {
      callback(zstdError(err));
    }
  }
}

/** Output between two turns of the event loop, whatever the reader does with it. */
const YIELD_BYTES = 2 * 1024 * 1024;

/** Input slices fed to fzstd: one expands to at most 32 MiB (256 RLE blocks of 128 KiB). */
const SLICE = 1024;

class FzstdDecompressor extends PacedDecoder {
  private readonly decoder = new Decompress((data) => {
    // fzstd may hand out views of its window buffer: copy before queuing.
    if (data.byteLength > 0) this.output(Buffer.from(data));
  });

  protected step(chunk: Buffer, offset: number): { offset: number; done: boolean } {
    if (offset >= chunk.byteLength) return { offset, done: true };
    const end = Math.min(offset + SLICE, chunk.byteLength);
    this.decoder.push(chunk.subarray(offset, end));
    return { offset: end, done: end >= chunk.byteLength };
  }

  protected finish(): void {
    this.decoder.push(new Uint8Array(0), true);
  }
}

/** libzstd's output per call: two of its blocks, so that a call is worth its crossing into C++. */
const NATIVE_OUT_BYTES = 256 * 1024;

class NativeZstdDecompressor extends PacedDecoder {
  private readonly dctx;
  /** Inside a frame that has not been decoded to its end. */
  private inFrame = false;

  constructor(binding: NativeBinding) {
    super();
    this.dctx = new binding.DCtx();
  }

  protected step(chunk: Buffer, offset: number): { offset: number; done: boolean } {
    const out = Buffer.allocUnsafe(NATIVE_OUT_BYTES);
    const [hint, produced, consumed] = this.dctx.decompressStream(out, chunk.subarray(offset));
    const next = offset + consumed;
    // A call that does nothing (past a frame's end, with no input) hints at the next frame's header.
    if (consumed > 0 || produced > 0) this.inFrame = hint !== 0;
    // A small output would keep the whole buffer alive: copied then.
    if (produced > 0) this.output(produced >= NATIVE_OUT_BYTES / 2 ? out.subarray(0, produced) : Buffer.from(out.subarray(0, produced)));
    // A full output buffer may leave more output inside the decoder, even with no input left.
    return { offset: next, done: next >= chunk.byteLength && produced < NATIVE_OUT_BYTES };
  }

  protected finish(): void {
    // fzstd's words, and Go's (io.ErrUnexpectedEOF), which Docker's decoder returns.
    if (this.inFrame) throw new Error('unexpected EOF');
  }
}

function zstdError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`zstd: ${message}`, { cause: err });
}
