/**
 * Blobs from a registry into the content store: streamed, never held whole, verified against the
 * descriptor's digest and size when committed; a layer's diffID and unpacked size computed on the
 * way, on the layer analysis worker thread. A connection cut mid-blob is resumed with `Range` where the registry answers 206, and the
 * blob restarted from its first byte where it does not. One fetch per digest runs at a time in
 * the whole daemon: concurrent pulls of images that share layers wait for the same fetch. With
 * `claims` (replicas on one blob tier), one at a time across the daemons too: a fetch first takes
 * the digest's claim, and a daemon that had to wait for it finds the blob in the store instead.
 */
import type { BlobInfo, ContentStore } from '../content/content-store.js';
import { InvalidArgumentError, LadingError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { layerExpansion, type ImportLimits } from '../layers/compression.js';
import { openLayerAnalysis } from '../layers/layer-analysis-pool.js';
import type { LayerAnalysis } from '../layers/layer-facts.js';
import { readBody, type HttpResult } from './http-client.js';
import { acceptFor, refKey, type Repository } from './manifest-fetch.js';
import { notFound, RegistryError, unexpectedStatus } from './registry-errors.js';
import type { FetchClaims } from './fetch-claims.js';
import { backoffDelay, isRetryableNetworkError } from './retry-policy.js';
import type { Semaphore } from './semaphore.js';

export interface FetchedBlob {
  info: BlobInfo;
  /** For layers: what the stream said, or why it is not a readable layer. */
  analysis?: LayerAnalysis | Error;
}

/** Where a fetch in progress stands, for progress reports. */
export interface FetchStatus {
  offset: number;
  total: number;
}

export interface BlobFetchOptions {
  /**
   * For a layer, the daemon's limits it is analysed under: once it expands past them, the download
   * stops there and the fetch fails (a decompression bomb is never read whole nor stored). False for
   * other blobs.
   */
  analyze: false | ImportLimits;
  signal?: AbortSignal;
  /**
   * The store as the caller sees it (a leasing view): the blob is committed through it, and a
   * caller that waited for another's fetch confirms (and so leases) the blob through it.
   */
  store?: ContentStore;
}

interface InFlight {
  promise: Promise<FetchedBlob>;
  /** Set once the download starts (not while it waits for another daemon's claim). */
  status?: FetchStatus;
}

/** Bytes gathered before one write into the store. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Bytes read ahead of what is written. */
const MAX_WRITE_BEHIND_BYTES = 8 * 1024 * 1024;

export class BlobFetcher {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    private readonly store: ContentStore,
    private readonly downloads: Semaphore,
    private readonly claims?: FetchClaims,
  ) {}

  /** The fetch of `digest` in progress, if any. */
  status(digest: string): FetchStatus | undefined {
    return this.inFlight.get(digest)?.status;
  }

  /**
   * Fetches `desc` from `repo` unless a fetch of it is already running, in which case that one
   * is awaited (and, should it fail, this caller tries once with its own repository).
   */
  async fetch(repo: Repository, desc: Descriptor, options: BlobFetchOptions): Promise<FetchedBlob> {
    const running = this.inFlight.get(desc.digest);
    if (running) {
      try {
        const shared = await running.promise;
        const store = options.store ?? this.store;
        if ((!options.analyze || shared.analysis) && (await store.has(desc.digest))) return shared;
      } catch (err) {
        if (options.signal?.aborted) throw err;
      }
      return this.fetch(repo, desc, options);
    }
    const progress: { status?: FetchStatus } = {};
    const download = (): Promise<FetchedBlob> => {
      progress.status = { offset: 0, total: desc.size };
      return this.fetchOnce(repo, desc, options, progress.status);
    };
    const promise = (this.claims ? this.claimed(desc, options, download) : download()).finally(() => {
      if (this.inFlight.get(desc.digest)?.promise === promise) this.inFlight.delete(desc.digest);
    });
    this.inFlight.set(desc.digest, Object.assign(progress, { promise }));
    return promise;
  }

  /**
   * `download` under the digest's claim; when another daemon fetched the blob while this one waited
   * for the claim, the store has it: it is confirmed (and so leased) through the caller's store view.
   * A claim that cannot be had (the database away) is done without: the claim only saves bandwidth.
   */
  private async claimed(desc: Descriptor, options: BlobFetchOptions, download: () => Promise<FetchedBlob>): Promise<FetchedBlob> {
    let claim;
    try {
      claim = await this.claims!.claim(desc.digest, options.signal);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      return download();
    }
    try {
      const found = await (options.store ?? this.store).info(desc.digest);
      if (found && found.size === desc.size) return { info: found };
      return await download();
    } finally {
      claim.release();
    }
  }

  private async fetchOnce(repo: Repository, desc: Descriptor, options: BlobFetchOptions, status: FetchStatus): Promise<FetchedBlob> {
    const release = await this.downloads.acquire(options.signal);
    const writer = await (options.store ?? this.store).openWriter();
    const analyzer = options.analyze ? openLayerAnalysis(layerExpansion(options.analyze), desc.size) : undefined;
    try {
      const retry = repo.transport.retry;
      let failures = 0;
      let restarts = 0;
      for (;;) {
        let res: HttpResult;
        try {
          res = await this.open(repo, desc, writer.written, options.signal);
        } catch (err) {
          if (!isRetryableNetworkError(err) || ++failures >= retry.maxAttempts) throw err;
          await retry.sleep(backoffDelay(failures, retry), options.signal);
          continue;
        }
        let skip = 0;
        if (writer.written > 0 && res.status !== 206) {
          // The registry ignored Range: skip what we already hold of the full blob.
          skip = writer.written;
          restarts++;
        }
        // Network chunks are small: they are written in batches, far fewer writes and hash calls.
        // Writes run behind the reads (a bounded amount), so the socket keeps flowing meanwhile.
        const pending: Buffer[] = [];
        let pendingBytes = 0;
        let writing: Promise<void> = Promise.resolve();
        let writingBytes = 0;
        const queue = (): void => {
          if (pendingBytes === 0) return;
          const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
          pending.length = 0;
          pendingBytes = 0;
          writingBytes += data.length;
          // The file write (thread pool) and the analysis (on the analysis worker, but for small
          // layers) of a batch overlap; batches still reach each of them in order.
          writing = writing.then(async () => {
            await Promise.all([writer.write(data), analyzer?.write(data)]);
            writingBytes -= data.length;
            if (analyzer?.refusal) throw analyzer.refusal;
          });
          // Awaited by flush; this keeps a failure from counting as unhandled meanwhile.
          writing.catch(() => undefined);
        };
        const flush = async (): Promise<void> => {
          queue();
          await writing;
        };
        try {
          try {
            for await (const chunk of res.body as AsyncIterable<Buffer>) {
              let data = chunk;
              if (skip > 0) {
                const n = Math.min(skip, data.length);
                skip -= n;
                data = data.subarray(n);
                if (data.length === 0) continue;
              }
              if (writer.written + pendingBytes + data.length > desc.size) {
                res.body.destroy();
                throw new LadingError(
                  'invalid-argument',
                  `failed commit on ref "${refKey(desc)}": unexpected commit size ${writer.written + pendingBytes + data.length}, expected ${desc.size}: failed precondition`,
                );
              }
              // A layer past the limits: stop reading (the loop's exit closes the response).
              if (analyzer?.refusal) throw analyzer.refusal;
              pending.push(data);
              pendingBytes += data.length;
              status.offset += data.length;
              if (pendingBytes >= WRITE_BATCH_BYTES) {
                queue();
                if (writingBytes >= MAX_WRITE_BEHIND_BYTES) await writing;
              }
            }
          } finally {
            // What arrived before a cut is kept: the resumed request asks for the rest.
            await flush();
            status.offset = writer.written;
          }
          break;
        } catch (err) {
          if (err instanceof LadingError || !isRetryableNetworkError(err) || ++failures >= retry.maxAttempts || restarts > retry.maxAttempts) throw err;
          await retry.sleep(backoffDelay(failures, retry), options.signal);
        }
      }
      let info: BlobInfo;
      try {
        info = await writer.commit({ digest: desc.digest, size: desc.size });
      } catch (err) {
        throw commitError(desc, err);
      }
      let analysis: LayerAnalysis | Error | undefined;
      if (analyzer) analysis = await analyzer.end().catch((err: Error) => err);
      return { info, ...(analysis ? { analysis } : {}) };
    } catch (err) {
      analyzer?.abort();
      await writer.abort();
      throw err;
    } finally {
      release();
    }
  }

  /** GET the blob from the first endpoint that has it, from `offset` on. */
  private async open(repo: Repository, desc: Descriptor, offset: number, signal?: AbortSignal): Promise<HttpResult> {
    let firstErr: Error | undefined;
    for (const [i, endpoint] of repo.endpoints.entries()) {
      const headers: Record<string, string> = { Accept: acceptFor(desc.mediaType) };
      if (offset > 0) headers.Range = `bytes=${offset}-`;
      let res: HttpResult;
      try {
        res = await repo.transport.request({ method: 'GET', endpoint, path: `blobs/${desc.digest}`, headers, lastHost: i === repo.endpoints.length - 1 });
      } catch (err) {
        if (signal?.aborted || i === repo.endpoints.length - 1) throw err;
        firstErr ??= err as Error;
        continue;
      }
      if (res.status === 200 || res.status === 206) {
        if (res.status === 206 && offset > 0) {
          const range = String(res.headers['content-range'] ?? '');
          if (range && !range.startsWith(`bytes ${offset}-`)) {
            res.body.destroy();
            throw new LadingError('internal', `unhandled content range in response: ${range}`);
          }
        }
        return res;
      }
      const body = await readBody(res.body, 64_000).catch(() => Buffer.alloc(0));
      const err =
        res.status === 404
          ? new RegistryError('not-found', `content at ${res.url.toString()} not found: not found`, { notFound: true })
          : unexpectedStatus('GET', res.url.toString(), res.status, res.statusText, body);
      firstErr ??= err;
    }
    if (firstErr instanceof RegistryError && firstErr.facts.notFound) {
      throw notFound(`could not fetch content descriptor ${desc.digest} (${desc.mediaType}) from remote`);
    }
    throw firstErr ?? new Error(`no endpoint for ${desc.digest}`);
  }
}

/** The content store's verification failure, in containerd's words. */
function commitError(desc: Descriptor, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const size = /size mismatch: expected (\d+) bytes, got (\d+)/.exec(message);
  if (size) {
    return new InvalidArgumentError(`failed commit on ref "${refKey(desc)}": unexpected commit size ${size[2]}, expected ${size[1]}: failed precondition`);
  }
  const digest = /digest mismatch: expected (\S+), got (\S+)/.exec(message);
  if (digest) {
    return new InvalidArgumentError(`failed commit on ref "${refKey(desc)}": unexpected commit digest ${digest[2]}, expected ${digest[1]}: failed precondition`);
  }
  return err instanceof Error ? err : new Error(message);
}
