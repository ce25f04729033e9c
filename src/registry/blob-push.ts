/**
 * One blob or manifest into a repository, as containerd v2.1.4's dockerPusher does it
 * (core/remotes/docker/pusher.go): HEAD first (there already: done); for a blob, a cross-repository
 * mount when another repository of the registry has it (201: done, 202: an upload to use), else
 * POST to start an upload, then one PUT of the whole blob to its Location with `?digest=`; for a
 * manifest, a PUT of its exact bytes at the tag or digest. The registry's Docker-Content-Digest
 * must be the descriptor's. The auth round happens on the body-less HEAD and POST; the streamed
 * PUT is authorized already. A blob whose upload fails on a server error or a dropped connection
 * is started over from the POST (a session may hold part of the failed body), a few times.
 */
import { Transform, type Readable } from 'node:stream';
import { NotFoundError, LadingError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { discard, readBody, type HttpResult } from './http-client.js';
import { acceptFor, type Repository } from './manifest-fetch.js';
import { RegistryError, unexpectedStatus, wrapRegistryError } from './registry-errors.js';
import type { Endpoint } from './registry-config.js';
import { backoffDelay, isRetryableNetworkError, isRetryableStatus } from './retry-policy.js';

/** Where one blob's push stands, as the push progress shows it. */
export type PushState =
  | { kind: 'pushing'; offset: number; total: number }
  | { kind: 'pushed' }
  | { kind: 'exists' }
  | { kind: 'mounted'; from: string };

export type PushOutcome = Exclude<PushState, { kind: 'pushing' }>;

export interface BlobUpload {
  /** Another repository of the target registry known to have the blob. */
  mountFrom?: string;
  /** Whether the blob is here to be uploaded (if it has to be). */
  present: boolean;
  /** Opens the blob's bytes. */
  open: () => Readable;
  /** Told of every byte sent (the offset starts at 0 again when an upload starts over). */
  onProgress: (state: PushState) => void;
  signal?: AbortSignal;
}

/** The registry's own endpoint: mirrors are for pulls only (containerd's HostCapabilityPush). */
export function pushEndpoint(repo: Repository): Endpoint {
  const endpoint = repo.endpoints[repo.endpoints.length - 1];
  if (!endpoint) throw new NotFoundError('no push hosts: not found');
  return endpoint;
}

export async function pushBlob(repo: Repository, desc: Descriptor, src: BlobUpload): Promise<PushOutcome> {
  const endpoint = pushEndpoint(repo);
  const transport = repo.transport;
  const exists = await transport.request({
    method: 'HEAD',
    endpoint,
    path: `blobs/${desc.digest}`,
    headers: { Accept: acceptFor(desc.mediaType) },
    lastHost: true,
  }).catch(unlessUnauthorized);
  if (exists) {
    discard(exists);
    if (exists.status === 200) return { kind: 'exists' };
    if (exists.status !== 404) throw unexpectedStatus('HEAD', exists.url.toString(), exists.status, exists.statusText, Buffer.alloc(0));
  }

  const retry = transport.retry;
  for (let attempt = 1; ; attempt++) {
    const started = await startUpload(repo, endpoint, desc, src.mountFrom);
    if (started.kind !== 'upload') return started;
    // containerd finds the blob missing only once the upload is open; nothing was sent.
    if (!src.present) throw new NotFoundError(`content digest ${desc.digest}: not found`);
    const location = uploadUrl(started.location, endpoint, desc.digest);
    const state = { kind: 'pushing' as const, offset: 0, total: desc.size };
    src.onProgress(state);
    let res: HttpResult;
    try {
      res = await transport.request({
        method: 'PUT',
        endpoint,
        path: '',
        url: location,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: {
          size: desc.size,
          open: () => {
            state.offset = 0;
            return counted(src.open(), (n) => (state.offset += n));
          },
        },
        lastHost: true,
        retry: false,
      });
    } catch (err) {
      if (err instanceof LadingError || !isRetryableNetworkError(err) || attempt >= retry.maxAttempts) throw err;
      await retry.sleep(backoffDelay(attempt, retry), src.signal);
      continue;
    }
    const answer = await readBody(res.body, 64_000).catch(() => Buffer.alloc(0));
    if (![200, 201, 202, 204].includes(res.status)) {
      if (isRetryableStatus(res.status) && attempt < retry.maxAttempts) {
        await retry.sleep(backoffDelay(attempt, retry, res.headers['retry-after']), src.signal);
        continue;
      }
      throw unexpectedStatus('PUT', res.url.toString(), res.status, res.statusText, answer);
    }
    checkDigest(res, desc);
    return { kind: 'pushed' };
  }
}

type Started = PushOutcome | { kind: 'upload'; location: string };

/** POST `blobs/uploads/`, with `mount`/`from` when another repository has the blob. */
async function startUpload(repo: Repository, endpoint: Endpoint, desc: Descriptor, mountFrom: string | undefined): Promise<Started> {
  const transport = repo.transport;
  let res: HttpResult | undefined;
  if (mountFrom) {
    try {
      res = await transport.request({
        method: 'POST',
        endpoint,
        path: `blobs/uploads/?mount=${desc.digest}&from=${mountFrom}`,
        scopes: [`repository:${mountFrom}:pull`],
        lastHost: true,
      });
    } catch (err) {
      if (!(err instanceof RegistryError && err.facts.invalidAuthorization)) throw wrapRegistryError(`pushing with mount from ${mountFrom}`, err);
    }
    if (res?.status === 401) {
      discard(res);
      res = undefined;
    } else if (res?.status === 201) {
      discard(res);
      return { kind: 'mounted', from: mountFrom };
    }
  }
  if (!res) {
    try {
      res = await transport.request({ method: 'POST', endpoint, path: 'blobs/uploads/', lastHost: true });
    } catch (err) {
      if (err instanceof RegistryError && err.facts.invalidAuthorization) {
        throw wrapRegistryError('push access denied, repository does not exist or may require authorization', err);
      }
      throw err;
    }
  }
  const body = await readBody(res.body, 64_000).catch(() => Buffer.alloc(0));
  if (res.status === 201) return { kind: 'exists' };
  if (res.status !== 200 && res.status !== 202 && res.status !== 204) {
    throw unexpectedStatus('POST', res.url.toString(), res.status, res.statusText, body);
  }
  const location = headerString(res.headers.location);
  if (!location) throw new LadingError('internal', `no Location in the answer to POST ${res.url.toString()}`);
  return { kind: 'upload', location };
}

/** The upload's Location (absolute, or a path on the registry's host) with `digest` added. */
function uploadUrl(location: string, endpoint: Endpoint, digest: string): URL {
  const base = `${endpoint.scheme}://${endpoint.host}`;
  let url: URL;
  try {
    url = location.startsWith('/') ? new URL(base + location) : new URL(location.includes('://') ? location : `${endpoint.scheme}://${location}`);
  } catch (err) {
    throw new LadingError('internal', `unable to parse location ${location}: ${(err as Error).message}`);
  }
  url.searchParams.append('digest', digest);
  return url;
}

/**
 * PUT a manifest or index, byte for byte, at `object` (the tag for the image's own target, else
 * its digest), unless the registry has it there already.
 */
export async function pushManifest(repo: Repository, desc: Descriptor, data: Buffer, object: string): Promise<PushOutcome> {
  const endpoint = pushEndpoint(repo);
  const path = `manifests/${object}`;
  const head = await repo.transport.request({
    method: 'HEAD',
    endpoint,
    path,
    headers: { Accept: acceptFor(desc.mediaType) },
    lastHost: true,
  }).catch(unlessUnauthorized);
  if (head) {
    discard(head);
    if (head.status === 200) {
      // At a tag, only the same digest means it is there.
      if (object === desc.digest || headerString(head.headers['docker-content-digest']) === desc.digest) return { kind: 'exists' };
    } else if (head.status !== 404) {
      throw unexpectedStatus('HEAD', head.url.toString(), head.status, head.statusText, Buffer.alloc(0));
    }
  }
  const res = await repo.transport.request({
    method: 'PUT',
    endpoint,
    path,
    headers: { 'Content-Type': desc.mediaType },
    body: data,
    lastHost: true,
  });
  const answer = await readBody(res.body, 64_000).catch(() => Buffer.alloc(0));
  if (![200, 201, 202, 204].includes(res.status)) throw unexpectedStatus('PUT', res.url.toString(), res.status, res.statusText, answer);
  checkDigest(res, desc);
  return { kind: 'pushed' };
}

/** containerd's pushWriter.Commit: the registry's digest of what it stored must be ours. */
function checkDigest(res: HttpResult, desc: Descriptor): void {
  const header = headerString(res.headers['docker-content-digest']) ?? '';
  if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(header)) {
    throw new LadingError('internal', `invalid content digest in response: invalid checksum digest format`);
  }
  if (header !== desc.digest) throw new LadingError('internal', `got digest ${header}, expected ${desc.digest}`);
}

/** A HEAD refused for want of credentials does not stop a push (containerd goes on to the POST). */
function unlessUnauthorized(err: unknown): undefined {
  if (err instanceof RegistryError && err.facts.invalidAuthorization) return undefined;
  throw err;
}

function counted(stream: Readable, onBytes: (n: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  stream.on('error', (err) => counter.destroy(err));
  counter.on('close', () => stream.destroy());
  return stream.pipe(counter);
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
