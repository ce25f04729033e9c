import { Transform, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';

/**
 * zstd as a Transform: compressed bytes in, decompressed bytes out, with backpressure. The one
 * place that knows the decoder (fzstd, pure JS and synchronous: Node 20's zlib has no zstd), so
 * that a native one can take its place behind the same stream.
 */
export function createZstdDecompressor(): Transform {
  return new FzstdDecompressor();
}

/**
 * Input is fed to fzstd in small slices: one slice expands to at most 32 MiB (256 RLE blocks of
 * 128 KiB), so a zstd bomb cannot fill memory behind a slow reader, and feeding stops as soon as
 * the stream is destroyed (a reader that gave up).
 */
const SLICE = 1024;

class FzstdDecompressor extends Transform {
  private readonly decoder = new Decompress((data) => {
    // fzstd may hand out views of its window buffer: copy before queuing.
    if (data.byteLength > 0) this.wantsMore = this.push(Buffer.from(data));
  });
  /** False from a push that filled the readable buffer until the next `_read`. */
  private wantsMore = true;
  /** The rest of a chunk whose feeding waits for the reader. */
  private waiting: (() => void) | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.feed(chunk, 0, callback);
  }

  private feed(chunk: Buffer, start: number, callback: TransformCallback): void {
    let offset = start;
    try {
      while (offset < chunk.byteLength) {
        if (this.destroyed) return;
        // Waits only after a push said the buffer is full: that push cleared the readable side's
        // `reading` flag, so the reader's next read calls `_read`, which goes on here. Waiting on
        // the buffer's length instead could wait for a `_read` that never comes (issue 12).
        if (!this.wantsMore) {
          const rest = offset;
          this.waiting = () => this.feed(chunk, rest, callback);
          return;
        }
        const end = Math.min(offset + SLICE, chunk.byteLength);
        this.decoder.push(chunk.subarray(offset, end));
        offset = end;
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
      this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (err) {
      callback(zstdError(err));
    }
  }
}

function zstdError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`zstd: ${message}`, { cause: err });
}
