import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InvalidArgumentError } from '../errors.js';
import { createDecompressor, ExpansionGuard, readStreamHead, type ExpansionLimits } from '../layers/compression.js';

export type ArchiveBody = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

export interface ArchiveEntry {
  header: tar.Header;
  /** The entry's data; read it at most once. Errors are already translated. */
  chunks(): AsyncGenerator<Buffer>;
}

type TarSource = tar.Extract extends AsyncIterable<infer S> ? S : never;

/** An error of the request body itself (a client that went away): passed on untouched. */
class BodyError extends Error {
  constructor(readonly original: unknown) {
    super('body read failed');
  }
}

/**
 * The entries of a tar archive that may be gzip- or zstd-compressed (detected by magic bytes, as
 * Docker does), streamed with backpressure. Stream and format errors become InvalidArgumentError;
 * stopping the iteration early tears the whole pipeline down. The body stays the caller's: it is
 * never destroyed here (an HTTP request must survive to carry the error response). `signal` stops the
 * reading wherever it waits (a client that went away), failing with the signal's reason.
 */
export async function* readArchiveEntries(
  body: ArchiveBody,
  limits: ExpansionLimits,
  signal?: AbortSignal,
): AsyncGenerator<ArchiveEntry> {
  signal?.throwIfAborted();
  const source = (body as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  const { compression, head, ended: sourceDone } = await readStreamHead(source, toBuffer);

  async function* raw(): AsyncGenerator<Buffer> {
    yield* head;
    if (sourceDone) return;
    try {
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        yield toBuffer(next.value);
      }
    } catch (err) {
      throw new BodyError(err);
    }
  }

  const decompressErrors = new WeakSet<object>();
  // Go's archive/tar reads V7 headers (no ustar magic) too.
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  const input = Readable.from(raw(), { objectMode: false });
  // Plain pipes: tar-stream's extract is a streamx stream, which node's pipeline() does not fully know.
  let upstream: Readable = input;
  const streams: Array<{ destroy(): unknown }> = [input, extract];
  if (compression !== 'none') {
    const decompressor = createDecompressor(compression);
    streams.push(decompressor);
    decompressor.on('error', (err) => {
      decompressErrors.add(err);
      extract.destroy(err);
    });
    input.on('error', (err) => decompressor.destroy(err));
    // A compressed body that expands without measure is a bomb: stop at the ratio limit.
    const guard = new ExpansionGuard({ ...limits, maxBytes: undefined }, `the ${compression}-compressed archive`);
    input.on('data', (chunk: Buffer) => guard.input(chunk.byteLength));
    decompressor.on('data', (chunk: Buffer) => {
      const tooFar = guard.output(chunk.byteLength);
      if (tooFar) extract.destroy(tooFar);
    });
    input.pipe(decompressor);
    upstream = decompressor;
  } else {
    input.on('error', (err) => extract.destroy(err));
  }
  upstream.pipe(extract as unknown as NodeJS.WritableStream);
  const stop = (): void => {
    extract.destroy(new BodyError(signal?.reason));
  };
  signal?.addEventListener('abort', stop, { once: true });

  const translate = (err: unknown): unknown => {
    if (err instanceof BodyError) return err.original;
    if (err instanceof InvalidArgumentError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (typeof err === 'object' && err !== null && decompressErrors.has(err)) {
      return new InvalidArgumentError(`failed to decompress ${compression} archive: ${message}`, { cause: err });
    }
    return new InvalidArgumentError(goTarErrorText(message) ?? `invalid tar archive: ${message}`, { cause: err });
  };

  // An entry's stream fails with a generic "destroyed" error; the cause is the extract's.
  let extractError: unknown;
  extract.on('error', (err: unknown) => (extractError = err));
  const extractClosed = new Promise<void>((resolve) => extract.once('close', () => resolve()));
  const entryFailure = async (err: unknown): Promise<unknown> => {
    await extractClosed;
    return translate(extractError ?? err);
  };

  const entries = extract[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<TarSource>;
      try {
        next = await entries.next();
      } catch (err) {
        throw translate(err);
      }
      if (next.done) break;
      const stream = next.value;
      let started = false;
      yield {
        header: stream.header,
        chunks: async function* () {
          if (started) throw new Error('archive entry read twice');
          started = true;
          try {
            for await (const chunk of stream) yield chunk as Buffer;
          } catch (err) {
            throw await entryFailure(err);
          }
        },
      };
      if (!started) {
        // The consumer skipped the data: drain it so the archive can move on.
        try {
          for await (const _ of stream) void _;
        } catch (err) {
          throw await entryFailure(err);
        }
      }
    }
    finished = true;
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!finished) {
      await entries.return?.();
      for (const stream of streams) stream.destroy();
    }
  }
}

/**
 * tar-stream's format errors as Go's archive/tar words them, which is what Docker's load prints
 * (containerd's importer returns the tar reader's error unwrapped): ErrHeader, ErrFieldTooLong,
 * io.ErrUnexpectedEOF.
 */
function goTarErrorText(message: string): string | undefined {
  if (/^Invalid (?:tar )?header/.test(message)) return 'archive/tar: invalid tar header';
  if (message === 'Header exceeds max size') return 'archive/tar: header field too long';
  if (message === 'Unexpected end of data') return 'unexpected EOF';
  return undefined;
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
