import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from '../../../test/support/registry.js';
import { hexOf } from '../../oci/digest.js';
import { DEFAULT_RETRY_POLICY } from '../../registry/retry-policy.js';
import { RegistryBlobs } from '../../registry/registry-blobs.js';
import { RegistryService } from '../../registry/registry-service.js';
import type { Harness } from '../../util/conformance.js';
import { BlobCache } from '../blob-cache.js';
import { RegistryContentStore } from '../registry-content-store.js';
import type { ContentStoreUnderTest } from './content-store-conformance.js';

/** The registry's own file of a blob (distribution's filesystem driver layout under its rootdirectory). */
export function registryBlobFile(rootDirectory: string, digest: string): string {
  const hex = hexOf(digest);
  return path.join(rootDirectory, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

export interface RegistryTier {
  store: RegistryContentStore;
  cache: BlobCache;
  remote: RegistryBlobs;
  cacheDir: string;
  close(): Promise<void>;
}

let repos = 0;

/**
 * A registry tier over `host` (the registry, or a fault proxy in front of it), in a repository of
 * its own, with a fresh cache of `cacheBytes`. Retries are quick, so that an unreachable registry
 * fails in milliseconds.
 */
export async function registryTier(host: string, cacheBytes = 1024 ** 3, repository = `conformance/r${process.pid}-${++repos}`): Promise<RegistryTier> {
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'lading-blobcache-'));
  const cache = new BlobCache(cacheDir, cacheBytes);
  await cache.init();
  const registry = new RegistryService({ retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 5, maxDelayMs: 20 }, responseTimeoutMs: 10_000 });
  const remote = new RegistryBlobs(registry, { host, repository });
  return { store: new RegistryContentStore(remote, cache), cache, remote, cacheDir, close: () => rm(cacheDir, { recursive: true, force: true }) };
}

let shared: Promise<Registry> | undefined;

/** One registry for a test file (each harness has its own repository); stop it with `stopSharedRegistry`. */
export function sharedRegistry(): Promise<Registry> {
  shared ??= Registry.start();
  return shared;
}

export async function stopSharedRegistry(): Promise<void> {
  if (shared) await (await shared).stop();
  shared = undefined;
}

/** The conformance harness: corruption flips a byte of the registry's copy and drops the cached one, so the read goes through. */
export async function registryContentHarness(): Promise<Harness<ContentStoreUnderTest>> {
  const registry = await sharedRegistry();
  const tier = await registryTier(registry.host);
  const corrupt = async (digest: string): Promise<void> => {
    const file = registryBlobFile(path.join(registry.dir, 'data'), digest);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(file, bytes);
    await tier.cache.evict(digest);
  };
  return { store: { content: tier.store, corrupt }, close: () => tier.close() };
}
