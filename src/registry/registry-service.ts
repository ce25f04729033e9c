/**
 * The daemon's registry side: its settings, the bearer tokens it holds, how many blobs it
 * fetches at once, and a client for one repository at a time.
 */
import type { ContentStore } from '../content/content-store.js';
import { credentialsHost, DOCKER_HUB_REGISTRY_HOST, type AuthConfig } from './auth-config.js';
import { Authorizer } from './authorizer.js';
import { BlobFetcher } from './blob-fetch.js';
import type { FetchClaims } from './fetch-claims.js';
import type { Repository } from './manifest-fetch.js';
import { RegistryConfig, type RegistryOptions, type RegistryTls } from './registry-config.js';
import { RegistryTransport } from './registry-transport.js';
import type { RetryPolicy } from './retry-policy.js';
import { Semaphore } from './semaphore.js';
import { TokenCache } from './token-cache.js';

export interface RegistryServiceOptions extends RegistryOptions {
  /** Blobs fetched at once, daemon-wide (dockerd's --max-concurrent-downloads, default 3). */
  maxConcurrentDownloads?: number;
  /** Blobs pushed at once (--max-concurrent-uploads, default 5). */
  maxConcurrentUploads?: number;
  /**
   * Time a registry (or its token server) has to send a response's headers once asked
   * (--registry-response-timeout, default 30s); 0: wait without end, as Docker does.
   */
  responseTimeoutMs?: number;
  retry?: RetryPolicy;
}

export const DEFAULT_MAX_CONCURRENT_DOWNLOADS = 3;
export const DEFAULT_MAX_CONCURRENT_UPLOADS = 5;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;

export interface RepositoryOptions {
  auth?: AuthConfig;
  push?: boolean;
  signal?: AbortSignal;
  onExchange?: (method: string, url: URL, status: number) => void;
}

export class RegistryService {
  readonly config: RegistryConfig;
  readonly tokens = new TokenCache();
  readonly downloads: Semaphore;
  readonly uploads: Semaphore;
  readonly maxConcurrentDownloads: number;
  readonly maxConcurrentUploads: number;
  readonly responseTimeoutMs: number;
  private readonly fetchers = new WeakMap<ContentStore, BlobFetcher>();
  private fetchClaims: FetchClaims | undefined;

  constructor(private readonly options: RegistryServiceOptions = {}) {
    this.config = new RegistryConfig(options);
    this.maxConcurrentDownloads = options.maxConcurrentDownloads ?? DEFAULT_MAX_CONCURRENT_DOWNLOADS;
    this.maxConcurrentUploads = options.maxConcurrentUploads ?? DEFAULT_MAX_CONCURRENT_UPLOADS;
    this.responseTimeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.downloads = new Semaphore(this.maxConcurrentDownloads);
    this.uploads = new Semaphore(this.maxConcurrentUploads);
  }

  /**
   * Fetches of a digest are claimed through `claims` from now on (replicas on one blob tier), by
   * the fetchers made after this call: the daemon calls it at start, before any pull.
   */
  shareFetches(claims: FetchClaims): void {
    this.fetchClaims = claims;
  }

  /** The one fetcher per content store, so that fetches of a digest are shared. */
  blobFetcher(store: ContentStore): BlobFetcher {
    let fetcher = this.fetchers.get(store);
    if (!fetcher) {
      fetcher = new BlobFetcher(store, this.downloads, this.fetchClaims);
      this.fetchers.set(store, fetcher);
    }
    return fetcher;
  }

  /** A client for `domain/path` with the given credentials (scope `repository:path:pull[,push]`). */
  async repository(domain: string, path: string, options: RepositoryOptions = {}): Promise<Repository> {
    const endpoints = await this.config.endpoints(domain);
    const tlsByHost = new Map<string, RegistryTls>(endpoints.map((e) => [e.host, e.tls]));
    const auth = options.auth ?? {};
    const cfgHost = credentialsHost(auth, domain === 'docker.io' ? DOCKER_HUB_REGISTRY_HOST : domain);
    const authorizer = new Authorizer({
      credentials: (host) => {
        if (host !== cfgHost) return { username: '', secret: '' };
        if (auth.identitytoken) return { username: '', secret: auth.identitytoken };
        return { username: auth.username ?? '', secret: auth.password ?? '' };
      },
      ...(auth.registrytoken ? { registryToken: { host: cfgHost, token: auth.registrytoken } } : {}),
      tokens: this.tokens,
      tlsFor: async (host) => tlsByHost.get(host) ?? (await this.config.tlsSettings(host)),
      ...(options.signal ? { signal: options.signal } : {}),
      responseTimeoutMs: this.responseTimeoutMs,
    });
    const transport = new RegistryTransport({
      repository: path,
      authorizer,
      scopes: [`repository:${path}:pull${options.push ? ',push' : ''}`],
      responseTimeoutMs: this.responseTimeoutMs,
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onExchange ? { onExchange: options.onExchange } : {}),
    });
    return { transport, endpoints };
  }
}
