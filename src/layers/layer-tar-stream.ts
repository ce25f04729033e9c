/**
 * A stored layer's tar stream: its blob bytes decompressed (gzip, zstd, or none) under the daemon's
 * ImportLimits, as a load or a pull would read it, so that a layer too big to load is not read for
 * a listing either.
 */
import { Readable, pipeline } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import { createDecompressor, ExpansionGuard, layerExpansion, readStreamHead, type ImportLimits } from './compression.js';

export async function* layerTar(blob: AsyncIterable<Uint8Array>, limits: ImportLimits, what: string): AsyncGenerator<Uint8Array> {
  const source = blob[Symbol.asyncIterator]();
  const { compression, head, ended } = await readStreamHead(source, (chunk: Uint8Array) => chunk);
  const rest = async function* (): AsyncGenerator<Uint8Array> {
    yield* head;
    if (ended) return;
    for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
  };
  if (compression === 'none') {
    yield* rest();
    return;
  }
  if (compression !== 'gzip' && compression !== 'zstd') throw new InvalidArgumentError(`${what}: unsupported compression ${compression}`);
  const guard = new ExpansionGuard(layerExpansion(limits), what);
  const counted = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of rest()) {
      guard.input(chunk.byteLength);
      yield chunk;
    }
  };
  const decompressor = createDecompressor(compression);
  // pipeline destroys the decompressor with the source's error, which the loop below then throws.
  const out = pipeline(Readable.from(counted(), { objectMode: false }), decompressor, () => undefined);
  try {
    for await (const chunk of out as AsyncIterable<Uint8Array>) {
      const refusal = guard.output(chunk.byteLength);
      if (refusal) throw refusal;
      yield chunk;
    }
  } finally {
    out.destroy();
  }
}
