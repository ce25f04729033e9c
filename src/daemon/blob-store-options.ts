/**
 * Where blobs live: `--blob-store registry://host[:port]/repository` (daemon.json `blob-store`) puts
 * them in an OCI-distribution registry, read through a local cache of `--blob-cache-size` bytes
 * (`blob-cache-size`, default 10 GiB); without it they stay on the data root's disk. The registry
 * is reached with the daemon's registry options (insecure registries, certs.d); credentials, when
 * it wants some, come from `--blob-store-auth FILE` (`blob-store-auth`): the AuthConfig JSON
 * `docker login` would send (`{"username":…,"password":…}`, or an identity or registry token).
 * Kept apart from flags.ts and config.ts, which only hand over to it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_BLOB_CACHE_BYTES } from '../content/blob-cache.js';
import { InvalidArgumentError } from '../errors.js';
import { parseAuthConfigJson, type AuthConfig } from '../registry/auth-config.js';
import { parseBlobStoreUrl, type BlobStoreLocation } from '../registry/registry-blobs.js';
import { parseByteSize } from '../util/go-size.js';

export interface BlobStoreFlags {
  blobStore?: string;
  cacheSize?: number;
  authFile?: string;
}

/** The registry tier's settings; absent: the embedded store. */
export interface BlobStoreSettings {
  location: BlobStoreLocation;
  cacheBytes: number;
  auth: AuthConfig;
}

export const BLOB_STORE_USAGE = `      --blob-store string              Keep blobs in an OCI registry: registry://host[:port]/repository
                                       (default: on the data root's disk)
      --blob-cache-size bytes          Local cache of a registry blob store (default 10GiB)
      --blob-store-auth string         File with the blob store registry's credentials (AuthConfig JSON)
`;

const FLAG_KEYS: Record<string, keyof BlobStoreFlags> = {
  '--blob-store': 'blobStore',
  '--blob-cache-size': 'cacheSize',
  '--blob-store-auth': 'authFile',
};

const FILE_KEYS: Record<string, keyof BlobStoreFlags> = {
  'blob-store': 'blobStore',
  'blob-cache-size': 'cacheSize',
  'blob-store-auth': 'authFile',
};

export const BLOB_STORE_FILE_KEYS: readonly string[] = Object.keys(FILE_KEYS);

export function isBlobStoreFlag(name: string): boolean {
  return name in FLAG_KEYS;
}

export function parseBlobStoreFlag(flags: BlobStoreFlags, name: string, inline: string | undefined, next: () => string | undefined): void {
  const value = inline ?? next();
  if (value === undefined) throw new InvalidArgumentError(`flag needs an argument: ${name}`);
  const key = FLAG_KEYS[name];
  if (key === 'cacheSize') flags.cacheSize = parseByteSize(value, `invalid argument ${JSON.stringify(value)} for "${name}" flag`);
  else if (key === 'blobStore') flags.blobStore = value;
  else if (key === 'authFile') flags.authFile = value;
}

/** Flags over daemon.json; a key set in both is refused as dockerd refuses it. */
export function resolveBlobStore(flags: BlobStoreFlags, file: Record<string, unknown>, configFile: string | undefined): BlobStoreSettings | undefined {
  const where = `unable to configure the daemon with file ${configFile ?? 'daemon.json'}`;
  const fromFile: BlobStoreFlags = {};
  const conflicts: string[] = [];
  for (const [jsonKey, key] of Object.entries(FILE_KEYS)) {
    const value = file[jsonKey];
    if (value === undefined) continue;
    if (key === 'cacheSize') {
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) fromFile.cacheSize = value;
      else if (typeof value === 'string') fromFile.cacheSize = parseByteSize(value, `${where}: ${jsonKey}`);
      else throw new InvalidArgumentError(`${where}: ${jsonKey} must be a size`);
    } else {
      if (typeof value !== 'string') throw new InvalidArgumentError(`${where}: ${jsonKey} must be a string`);
      fromFile[key] = value;
    }
    if (flags[key] !== undefined) conflicts.push(`${jsonKey}: (from flag: ${String(flags[key])}, from file: ${String(value)})`);
  }
  if (conflicts.length > 0) {
    throw new InvalidArgumentError(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  const blobStore = flags.blobStore ?? fromFile.blobStore;
  const cacheBytes = flags.cacheSize ?? fromFile.cacheSize;
  const authFile = flags.authFile ?? fromFile.authFile;
  if (blobStore === undefined) {
    if (cacheBytes !== undefined || authFile !== undefined) throw new InvalidArgumentError('--blob-cache-size and --blob-store-auth need --blob-store');
    return undefined;
  }
  return { location: parseBlobStoreUrl(blobStore), cacheBytes: cacheBytes ?? DEFAULT_BLOB_CACHE_BYTES, auth: authFile ? readAuth(authFile) : {} };
}

function readAuth(file: string): AuthConfig {
  let text: string;
  try {
    text = readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`blob store credentials ${file}: ${(err as Error).message}`);
  }
  try {
    return parseAuthConfigJson(text);
  } catch (err) {
    throw new InvalidArgumentError(`blob store credentials ${file}: ${(err as Error).message}`);
  }
}
