import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

/** Checks a digest string; only sha256 is supported, as in Docker. */
export function parseDigest(value: string): string {
  if (!isDigest(value)) throw new InvalidArgumentError(`invalid digest: ${JSON.stringify(value)}`);
  return value;
}

export function digestOf(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function hexOf(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}
