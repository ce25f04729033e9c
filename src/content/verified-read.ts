import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { digestOf } from '../oci/digest.js';
import { BlobCorruptError } from './content-store.js';

/**
 * `source` (a stored blob's bytes) hashed on the way out. The last chunk is held back until the
 * hash is known, so a reader of a corrupt blob never gets all of it: a save is cut short and a
 * registry is never sent a complete body, whatever it would make of it. Costs one SHA-256 pass.
 */
export function verifiedStream(source: Readable, digest: string): Readable {
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  const verify = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      hash.update(chunk);
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done: TransformCallback) {
      const actual = 'sha256:' + hash.digest('hex');
      if (actual !== digest) done(new BlobCorruptError(digest, actual));
      else done(null, held);
    },
  });
  // The file's own errors (ENOENT for a blob that vanished) reach the reader unchanged.
  source.on('error', (err) => verify.destroy(err));
  verify.on('close', () => source.destroy());
  return source.pipe(verify);
}

/** `bytes`, read whole from the store, checked against the digest they are stored under. */
export function verifiedBytes(bytes: Buffer, digest: string): Buffer {
  const actual = digestOf(bytes);
  if (actual !== digest) throw new BlobCorruptError(digest, actual);
  return bytes;
}
