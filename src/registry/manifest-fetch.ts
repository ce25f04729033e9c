/**
 * Manifests from a registry: resolving a tag or digest to a descriptor (containerd v2.1.4's
 * dockerResolver.Resolve: HEAD with Docker's Accept list, GET when the registry says too little),
 * and fetching a manifest or index by digest, capped in size and verified.
 */
import { createHash } from 'node:crypto';
import { MediaType, isIndexType, isManifestType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { isDigest } from '../oci/digest.js';
import { discard, readBody, type HttpResult } from './http-client.js';
import { notFound, RegistryError, unexpectedStatus, wrapRegistryError } from './registry-errors.js';
import type { RegistryTransport } from './registry-transport.js';
import type { Endpoint } from './registry-config.js';
import { LadingError } from '../errors.js';

/** containerd's resolver Accept header: every manifest type Docker pulls, then anything. */
export const MANIFEST_ACCEPT = [
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.ociIndex,
  '*/*',
].join(', ');

/**
 * The largest manifest accepted: 4 MiB, the content store's limit for JSON documents (containerd's
 * MaxManifestSize is 4*1048*1048 bytes, about 4.19 MB; a manifest between the two could not be read
 * back here, so Lading refuses it at the door).
 */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

export const SCHEMA1_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);
export const SCHEMA1_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/** Accept for a fetch of a known media type (containerd's request.setMediaType). */
export function acceptFor(mediaType: string): string {
  return mediaType ? `${mediaType}, */*` : '*/*';
}

/** The Content-Type without parameters; text/plain means schema 1 (containerd's getManifestMediaType). */
export function manifestMediaType(res: HttpResult): string {
  const contentType = String(res.headers['content-type'] ?? '');
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim();
  return type === 'text/plain' ? SCHEMA1_MANIFEST : type;
}

export interface Repository {
  transport: RegistryTransport;
  endpoints: Endpoint[];
}

/**
 * Resolves `object` (a tag or a digest) of the reference `ref` to a descriptor, trying each
 * endpoint in order and reporting the most telling failure, as containerd does.
 */
export async function resolveManifest(repo: Repository, ref: string, object: string): Promise<Descriptor> {
  const byDigest = isDigest(object) ? object : undefined;
  const paths = byDigest ? [`manifests/${byDigest}`, `blobs/${byDigest}`] : [`manifests/${object}`];
  let firstErr: Error | undefined;
  let priority = 0;
  const note = (p: number, err: Error): void => {
    if (priority < p) {
      firstErr = err;
      priority = p;
    }
  };
  for (const path of paths) {
    for (const [i, endpoint] of repo.endpoints.entries()) {
      const lastHost = i === repo.endpoints.length - 1;
      let res: HttpResult;
      try {
        res = await repo.transport.request({ method: 'HEAD', endpoint, path, headers: { Accept: MANIFEST_ACCEPT }, lastHost });
      } catch (err) {
        const e = err instanceof RegistryError && err.facts.invalidAuthorization
          ? wrapRegistryError('pull access denied, repository does not exist or may require authorization', err)
          : (err as Error);
        if ((err as Error)?.name === 'AbortError') throw err;
        note(1, e);
        continue;
      }
      let body: Buffer = Buffer.alloc(0);
      if (res.method === 'HEAD') discard(res);
      else if (res.status > 299) body = await readBody(res.body, 64_000).catch(() => Buffer.alloc(0));
      if (res.status > 299) {
        if (res.status === 404) {
          note(2, notFound(ref));
          continue;
        }
        const err = unexpectedStatus(res.method, res.url.toString(), res.status, res.statusText, body);
        if (res.status > 399) {
          note(3, err);
          continue;
        }
        throw err;
      }
      const lengthHeader = res.headers['content-length'];
      let size = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : -1;
      let mediaType = manifestMediaType(res);
      // A registry that refused HEAD answered GET: its body is read again below if needed.
      if (res.method !== 'HEAD') discard(res);
      let digest = byDigest;
      if (!digest) {
        const header = headerString(res.headers['docker-content-digest']);
        if (header && size !== -1) {
          if (!isDigest(header)) throw new LadingError('internal', `${JSON.stringify(header)} in header not a valid digest: invalid checksum digest format`);
          digest = header;
        }
      }
      if (!digest || size === -1) {
        // The registry did not say enough in answer to HEAD: read the manifest itself.
        const got = await repo.transport.request({ method: 'GET', endpoint, path, headers: { Accept: MANIFEST_ACCEPT }, lastHost: true });
        if (got.status > 299) {
          const errBody = await readBody(got.body, 64_000).catch(() => Buffer.alloc(0));
          if (got.status === 404) throw notFound(ref);
          throw unexpectedStatus('GET', got.url.toString(), got.status, got.statusText, errBody);
        }
        mediaType = manifestMediaType(got);
        let data: Buffer;
        try {
          data = await readBody(got.body, MAX_MANIFEST_SIZE);
        } catch {
          note(4, rejectTooLarge(MAX_MANIFEST_SIZE + 1, ref));
          continue;
        }
        if (!digest) {
          if (SCHEMA1_TYPES.has(mediaType)) throw schema1Error('v2.0');
          digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
        }
        size = data.length;
      }
      if (size > MAX_MANIFEST_SIZE) {
        note(4, rejectTooLarge(size, ref));
        continue;
      }
      return { mediaType, digest, size };
    }
  }
  throw firstErr ?? notFound(ref);
}

function rejectTooLarge(size: number, ref: string): RegistryError {
  return new RegistryError('not-found', `rejecting ${size} byte manifest for ${ref}: not found`, { notFound: true });
}

export function schema1Error(since: 'v2.0' | 'v2.1'): LadingError {
  return new LadingError(
    'not-implemented',
    `not implemented: media type "${SCHEMA1_MANIFEST}" is no longer supported since containerd ${since}, please rebuild the image as "${MediaType.dockerManifest}" or "${MediaType.ociManifest}"`,
  );
}

/**
 * GET a manifest or index by digest from the first endpoint that has it; its bytes must be what
 * the descriptor says (size and digest), and no more than MAX_MANIFEST_SIZE.
 */
export function fetchManifest(repo: Repository, desc: Descriptor): Promise<Buffer> {
  return fetchDocument(repo, desc, 'manifest');
}

/**
 * GET a small JSON blob (an image config) by digest into memory, as fetchManifest does a
 * manifest: no more than MAX_MANIFEST_SIZE, its size and digest checked. Nothing is stored.
 */
export function fetchConfigBlob(repo: Repository, desc: Descriptor): Promise<Buffer> {
  return fetchDocument(repo, desc, 'blob');
}

async function fetchDocument(repo: Repository, desc: Descriptor, kind: 'manifest' | 'blob'): Promise<Buffer> {
  if (desc.size > MAX_MANIFEST_SIZE) {
    throw new LadingError('invalid-argument', `${kind} ${desc.digest} is ${desc.size} bytes, more than the limit of ${MAX_MANIFEST_SIZE} bytes`);
  }
  let firstErr: Error | undefined;
  for (const [i, endpoint] of repo.endpoints.entries()) {
    const lastHost = i === repo.endpoints.length - 1;
    try {
      return await fetchDocumentFrom(repo, endpoint, desc, lastHost, kind);
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      firstErr ??= err as Error;
    }
  }
  throw firstErr ?? new Error(`no endpoint for ${desc.digest}`);
}

async function fetchDocumentFrom(repo: Repository, endpoint: Endpoint, desc: Descriptor, lastHost: boolean, kind: 'manifest' | 'blob'): Promise<Buffer> {
  const path = `${kind}s/${desc.digest}`;
  for (let attempt = 1; ; attempt++) {
    const res = await repo.transport.request({ method: 'GET', endpoint, path, headers: { Accept: acceptFor(desc.mediaType) }, lastHost });
    if (res.status > 299) {
      const body = await readBody(res.body, 64_000).catch(() => Buffer.alloc(0));
      if (res.status === 404) throw new RegistryError('not-found', `content at ${res.url.toString()} not found: not found`, { notFound: true });
      throw unexpectedStatus('GET', res.url.toString(), res.status, res.statusText, body);
    }
    const header = headerString(res.headers['docker-content-digest']);
    if (header && header !== desc.digest) {
      discard(res);
      throw new LadingError('invalid-argument', `${kind} ${desc.digest}: registry sent Docker-Content-Digest ${header}`);
    }
    let data: Buffer;
    try {
      data = await readBody(res.body, desc.size);
    } catch (err) {
      if (/larger than/.test((err as Error).message)) {
        throw new LadingError('invalid-argument', `${kind} ${desc.digest}: registry sent more than the ${desc.size} bytes its descriptor says`);
      }
      if (attempt < repo.transport.retry.maxAttempts && lastHost) {
        await repo.transport.retry.sleep(repo.transport.retry.baseDelayMs * attempt);
        continue;
      }
      throw err;
    }
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    if (data.length !== desc.size) {
      throw new LadingError('invalid-argument', `failed commit on ref "${refKey(desc)}": unexpected commit size ${data.length}, expected ${desc.size}: failed precondition`);
    }
    if (digest !== desc.digest) {
      throw new LadingError('invalid-argument', `failed commit on ref "${refKey(desc)}": unexpected commit digest ${digest}, expected ${desc.digest}: failed precondition`);
    }
    return data;
  }
}

/** containerd's remotes.MakeRefKey: the ingest name of a descriptor, by kind. */
export function refKey(desc: Descriptor): string {
  const t = desc.mediaType;
  if (isManifestType(t)) return `manifest-${desc.digest}`;
  if (isIndexType(t)) return `index-${desc.digest}`;
  if (t.startsWith('application/vnd.docker.image.rootfs.') || t.startsWith('application/vnd.oci.image.layer.')) return `layer-${desc.digest}`;
  if (t === MediaType.dockerConfig || t === MediaType.ociConfig) return `config-${desc.digest}`;
  return `unknown-${desc.digest}`;
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `GET /v2/<name>/tags/list`, following `Link: <…>; rel="next"` pages. */
export async function listTags(repo: Repository): Promise<string[]> {
  const endpoint = repo.endpoints[repo.endpoints.length - 1];
  if (!endpoint) return [];
  const tags: string[] = [];
  let path = 'tags/list';
  for (let page = 0; page < 1000; page++) {
    const res = await repo.transport.request({ method: 'GET', endpoint, path, headers: { Accept: 'application/json' }, lastHost: true });
    const body = await readBody(res.body, 16 * 1024 * 1024);
    if (res.status === 404) throw notFound(`repository ${endpoint.host}`);
    if (res.status > 299) throw unexpectedStatus('GET', res.url.toString(), res.status, res.statusText, body);
    const parsed = JSON.parse(body.toString('utf8')) as { tags?: string[] | null };
    tags.push(...(parsed.tags ?? []));
    const link = headerString(res.headers.link);
    const next = link && /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1];
    if (!next) break;
    const u = new URL(next, res.url);
    const marker = /\/tags\/list(\?.*)?$/.exec(u.pathname + u.search);
    if (!marker) break;
    path = `tags/list${marker[1] ?? ''}`;
  }
  return tags;
}
