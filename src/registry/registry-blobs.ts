/**
 * The registry tier's conversation with its repository (content/remote-blobs.ts): blobs by HEAD,
 * GET, upload (blob-push.ts's POST and monolithic PUT, digest checked by the registry and against
 * its answer) and DELETE; holder manifests by PUT, GET and DELETE. Credentials, insecure
 * registries and certs.d apply as for a pull or push (registry-service.ts). A registry that cannot
 * be reached, or answers 5xx after the transport's retries, is an UnavailableError (503) that names
 * the blob store, so a write fails clearly and says where.
 */
import type { Readable } from 'node:stream';
import { InvalidArgumentError, LadingError, UnavailableError } from '../errors.js';
import { ManifestBlobUnknownError, type RemoteBlobs } from '../content/remote-blobs.js';
import { digestOf } from '../oci/digest.js';
import type { AuthConfig } from './auth-config.js';
import { pushBlob, pushEndpoint, pushManifest } from './blob-push.js';
import { discard, readBody, type HttpResult } from './http-client.js';
import { listTags, MAX_MANIFEST_SIZE, type Repository } from './manifest-fetch.js';
import type { RegistryRequest } from './registry-transport.js';
import { RegistryError, unexpectedStatus } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';

/** `registry://host[:port]/repository`, parsed. */
export interface BlobStoreLocation {
  /** host[:port], as a reference's domain. */
  host: string;
  repository: string;
}

/** Parses `--blob-store`'s value; the repository must be a valid distribution name. */
export function parseBlobStoreUrl(value: string): BlobStoreLocation {
  const m = /^registry:\/\/([^/]+)\/(.+)$/.exec(value);
  const repository = m?.[2]?.replace(/\/+$/, '');
  if (!m || !repository || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new InvalidArgumentError(`invalid blob store ${JSON.stringify(value)}: want registry://host[:port]/repository (a lowercase repository name)`);
  }
  return { host: m[1]!, repository };
}

export class RegistryBlobs implements RemoteBlobs {
  readonly location: string;
  private repo: Promise<Repository> | undefined;

  constructor(
    private readonly registry: RegistryService,
    private readonly where: BlobStoreLocation,
    private readonly auth: AuthConfig = {},
  ) {
    this.location = `registry://${where.host}/${where.repository}`;
  }

  async stat(digest: string): Promise<number | undefined> {
    const res = await this.request({ method: 'HEAD', path: `blobs/${digest}` });
    discard(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await this.failure(res);
    const length = Number(res.headers['content-length']);
    return Number.isSafeInteger(length) ? length : undefined;
  }

  async open(digest: string): Promise<{ size: number | undefined; body: Readable } | undefined> {
    const res = await this.request({ method: 'GET', path: `blobs/${digest}` });
    if (res.status === 404) {
      discard(res);
      return undefined;
    }
    if (res.status !== 200) throw await this.failure(res);
    const length = Number(res.headers['content-length']);
    return { size: Number.isSafeInteger(length) ? length : undefined, body: res.body };
  }

  async upload(digest: string, size: number, open: () => Readable): Promise<void> {
    const repo = await this.repository();
    await this.reaching(() => pushBlob(repo, { mediaType: 'application/octet-stream', digest, size }, { present: true, open, onProgress: () => undefined }));
  }

  async deleteBlob(digest: string): Promise<boolean> {
    const res = await this.request({ method: 'DELETE', path: `blobs/${digest}` });
    discard(res);
    if (res.status === 404) return false;
    // storage.delete disabled: the bytes stay until the operator's garbage collection.
    if (res.status === 405) return false;
    if (res.status !== 202) throw await this.failure(res);
    return true;
  }

  async putManifest(tag: string, mediaType: string, bytes: Buffer): Promise<void> {
    const repo = await this.repository();
    try {
      await this.reaching(() => pushManifest(repo, { mediaType, digest: digestOf(bytes), size: bytes.length }, bytes, tag));
    } catch (err) {
      const codes = err instanceof RegistryError ? (err.facts.registryErrors ?? []).map((e) => e.code) : [];
      if (err instanceof RegistryError && (codes.includes('MANIFEST_BLOB_UNKNOWN') || codes.includes('BLOB_UNKNOWN'))) {
        throw new ManifestBlobUnknownError(err.kind, `${this.location}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  async getManifest(tag: string): Promise<Buffer | undefined> {
    const res = await this.request({ method: 'GET', path: `manifests/${tag}`, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    if (res.status === 404) {
      discard(res);
      return undefined;
    }
    if (res.status !== 200) throw await this.failure(res);
    return readBody(res.body, MAX_MANIFEST_SIZE);
  }

  async deleteManifest(tag: string): Promise<boolean> {
    const head = await this.request({ method: 'HEAD', path: `manifests/${tag}`, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    discard(head);
    if (head.status === 404) return false;
    if (head.status !== 200) throw await this.failure(head);
    const digest = head.headers['docker-content-digest'];
    if (typeof digest !== 'string') throw new LadingError('internal', `${this.location}: no Docker-Content-Digest for manifest ${tag}`);
    // Distribution deletes by digest only; the manifest's tags go with it.
    const res = await this.request({ method: 'DELETE', path: `manifests/${digest}` });
    discard(res);
    if (res.status === 404) return false;
    if (res.status !== 202) throw await this.failure(res);
    return true;
  }

  async tags(): Promise<string[]> {
    const repo = await this.repository();
    try {
      return await this.reaching(() => listTags(repo));
    } catch (err) {
      // A repository nothing was ever pushed to.
      if (err instanceof RegistryError && err.facts.notFound) return [];
      throw err;
    }
  }

  private repository(): Promise<Repository> {
    this.repo ??= this.registry.repository(this.where.host, this.where.repository, { auth: this.auth, push: true });
    this.repo.catch(() => (this.repo = undefined));
    return this.repo;
  }

  private async request(req: Omit<RegistryRequest, 'endpoint' | 'lastHost'>): Promise<HttpResult> {
    const repo = await this.repository();
    return this.reaching(() => repo.transport.request({ ...req, endpoint: pushEndpoint(repo), lastHost: true }));
  }

  /** `fn`, with a failure to reach the registry (or its 5xx) said as the blob store being unavailable. */
  private async reaching<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const status = err instanceof RegistryError ? err.facts.status : undefined;
      if (err instanceof LadingError && !(status !== undefined && status >= 500)) throw err;
      throw new UnavailableError(`the blob store ${this.location} is unavailable: ${(err as Error).message}`, { cause: err });
    }
  }

  private async failure(res: HttpResult): Promise<Error> {
    const body = await readBody(res.body, 64_000).catch(() => Buffer.alloc(0));
    const err = unexpectedStatus(res.method, res.url.toString(), res.status, res.statusText, body);
    if (res.status >= 500) return new UnavailableError(`the blob store ${this.location} is unavailable: ${err.message}`, { cause: err });
    return new LadingError(err.kind, `${this.location}: ${err.message}`, { cause: err });
  }
}
