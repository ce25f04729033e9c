/**
 * `GET /distribution/{name}/json`: what a registry says of an image, as Docker 28.5's
 * getDistributionInfo (api/server/router/distribution/distribution_routes.go) reads it through
 * docker/distribution's client: the tag resolved (HEAD, GET when HEAD says too little), the
 * manifest fetched by digest, and the platforms it names (an index's entries, or a Docker schema 2
 * manifest's config; an OCI manifest names none, as in Docker).
 */
import { createHash } from 'node:crypto';
import { LadingError, type ErrorKind } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import { referenceString, type Reference } from '../reference/reference.js';
import type { AuthConfig } from './auth-config.js';
import { readBody, type HttpResult } from './http-client.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_SIZE, SCHEMA1_TYPES } from './manifest-fetch.js';
import type { Repository } from './manifest-fetch.js';
import { parseRegistryErrors } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';

/** ocispec.Platform as Go encodes it (field order and omitempty kept). */
export interface DistributionPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** registry.DistributionInspect */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: DistributionPlatform[] | null;
}

export interface DistributionInspectOptions {
  auth?: AuthConfig;
  signal?: AbortSignal;
}

/** Resolves `ref` (tagged or canonical; a bare name means `latest`) at its registry. */
export async function distributionInspect(
  registry: RegistryService,
  ref: Reference,
  options: DistributionInspectOptions = {},
): Promise<DistributionInspect> {
  const repo = await registry.repository(ref.domain, ref.path, {
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const named = ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
  // Docker tries each endpoint (mirrors first) and reports the last failure.
  let lastErr: unknown = new LadingError('internal', `no endpoint for ${referenceString(named)}`);
  for (const i of repo.endpoints.keys()) {
    try {
      return await inspectAt(repo, i, named);
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      lastErr = err;
    }
  }
  throw lastErr;
}

async function inspectAt(repo: Repository, index: number, ref: Reference): Promise<DistributionInspect> {
  const endpoint = repo.endpoints[index]!;
  const lastHost = index === repo.endpoints.length - 1;
  const request = (method: 'GET' | 'HEAD', path: string, accept: string): Promise<HttpResult> =>
    repo.transport.request({ method, endpoint, path, headers: { Accept: accept }, lastHost });

  let digest: string;
  let size = 0;
  if (ref.digest) {
    digest = ref.digest;
  } else {
    // docker/distribution's tags.Get.
    const path = `manifests/${ref.tag ?? 'latest'}`;
    const head = await request('HEAD', path, MANIFEST_ACCEPT);
    const headDigest = header(head, 'docker-content-digest');
    if (head.method === 'HEAD') head.body.resume();
    if (head.status < 400 && head.method === 'HEAD' && headDigest) {
      digest = headDigest;
      size = contentLength(head);
    } else {
      const got = head.method === 'GET' ? head : await request('GET', path, MANIFEST_ACCEPT);
      const body = await readBody(got.body, MAX_MANIFEST_SIZE);
      if (got.status >= 400) throw handleErrorResponse(got, body);
      digest = header(got, 'docker-content-digest') ?? 'sha256:' + createHash('sha256').update(body).digest('hex');
      size = contentLength(got);
    }
  }

  // docker/distribution's manifests.Get, then Payload().
  const got = await request('GET', `manifests/${digest}`, MANIFEST_ACCEPT);
  const payload = await readBody(got.body, MAX_MANIFEST_SIZE);
  if (got.status >= 400) throw handleErrorResponse(got, payload);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new LadingError('internal', (err as Error).message);
  }
  const contentType = (header(got, 'content-type') ?? '').split(';')[0]!.trim();
  const docType = typeof doc.mediaType === 'string' ? doc.mediaType : '';
  const known = new Set<string>([MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.ociIndex, ...SCHEMA1_TYPES]);
  let kind = known.has(contentType) ? contentType : docType;
  if (kind === '' && Array.isArray(doc.manifests)) kind = MediaType.ociIndex;
  else if (kind === '' && doc.config !== undefined) kind = MediaType.ociManifest;
  if (contentType === 'text/plain' || SCHEMA1_TYPES.has(kind) || doc.schemaVersion === 1) {
    throw new LadingError(
      'invalid-argument',
      `Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${referenceString(ref)} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`,
    );
  }

  let mediaType: string;
  let platforms: DistributionPlatform[] | null = null;
  if (kind === MediaType.dockerManifestList || kind === MediaType.ociIndex) {
    mediaType = docType || MediaType.ociIndex;
    const entries = Array.isArray(doc.manifests) ? (doc.manifests as Array<Record<string, unknown>>) : [];
    for (const m of entries) {
      const p = (typeof m.platform === 'object' && m.platform !== null ? m.platform : {}) as Record<string, unknown>;
      (platforms ??= []).push(platformOf(p));
    }
  } else if (kind === MediaType.dockerManifest) {
    mediaType = docType;
    const config = doc.config as Record<string, unknown> | undefined;
    const configDigest = typeof config?.digest === 'string' ? config.digest : '';
    const platform = configDigest ? await configPlatform(request, configDigest) : undefined;
    if (platform && (platform.os !== '' || platform.architecture !== '')) platforms = [platform];
  } else if (kind === MediaType.ociManifest) {
    mediaType = MediaType.ociManifest;
  } else {
    throw new LadingError('internal', `unsupported manifest media type and no default available: ${contentType}`);
  }
  return { Descriptor: { mediaType, digest, size: size === 0 ? payload.length : size }, Platforms: platforms };
}

/** The config blob read as an ocispec.Platform; nothing when it cannot be had (Docker ignores that). */
async function configPlatform(
  request: (method: 'GET' | 'HEAD', path: string, accept: string) => Promise<HttpResult>,
  digest: string,
): Promise<DistributionPlatform | undefined> {
  try {
    const res = await request('GET', `blobs/${digest}`, '*/*');
    const body = await readBody(res.body, MAX_MANIFEST_SIZE);
    if (res.status >= 400) return undefined;
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return platformOf(parsed as Record<string, unknown>);
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    return undefined;
  }
}

function platformOf(p: Record<string, unknown>): DistributionPlatform {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const out: DistributionPlatform = { architecture: str(p.architecture), os: str(p.os) };
  if (str(p['os.version'])) out['os.version'] = str(p['os.version']);
  const features = p['os.features'];
  if (Array.isArray(features) && features.length > 0) out['os.features'] = features.map(str);
  if (str(p.variant)) out.variant = str(p.variant);
  return out;
}

const ERRCODE_STATUS: Record<string, number> = {
  UNAUTHORIZED: 401,
  DENIED: 403,
  TOOMANYREQUESTS: 429,
  UNAVAILABLE: 503,
  UNSUPPORTED: 405,
  NAME_UNKNOWN: 404,
  MANIFEST_UNKNOWN: 404,
  BLOB_UNKNOWN: 404,
  NAME_INVALID: 400,
  TAG_INVALID: 400,
  DIGEST_INVALID: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNVERIFIED: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  SIZE_INVALID: 400,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  PAGINATION_NUMBER_INVALID: 400,
  RANGE_INVALID: 416,
};

const ERRCODE_MESSAGE: Record<string, string> = {
  UNKNOWN: 'unknown error',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  TOOMANYREQUESTS: 'too many requests',
  UNAVAILABLE: 'service unavailable',
  UNSUPPORTED: 'The operation is unsupported.',
  NAME_UNKNOWN: 'repository name not known to registry',
  MANIFEST_UNKNOWN: 'manifest unknown',
  BLOB_UNKNOWN: 'blob unknown to registry',
};

function kindOfStatus(status: number): ErrorKind {
  if (status === 404) return 'not-found';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 400) return 'invalid-argument';
  if (status === 503 || status === 429) return 'unavailable';
  if (status === 405) return 'not-implemented';
  return 'internal';
}

/**
 * docker/distribution's HandleErrorResponse, its text and Docker's status for it: the registry's
 * errcode errors (`manifest unknown: manifest unknown`), an unauthorized without them, or the
 * status alone for a 5xx.
 */
function handleErrorResponse(res: HttpResult, body: Buffer): LadingError {
  const status = res.status;
  if (status >= 400 && status < 500) {
    const entries = parseRegistryErrors(body);
    if (entries.length > 0) {
      const texts = entries.map((e) => {
        const code = ERRCODE_STATUS[e.code] !== undefined || ERRCODE_MESSAGE[e.code] !== undefined ? e.code : 'UNKNOWN';
        const message = e.message || (ERRCODE_MESSAGE[code] ?? 'unknown error');
        return `${code.toLowerCase().replaceAll('_', ' ')}: ${message}`;
      });
      const first = entries[0]!;
      const text = texts.length === 1 ? texts[0]! : `errors:\n${texts.map((t) => t + '\n').join('')}`;
      return new LadingError(kindOfStatus(ERRCODE_STATUS[first.code] ?? 500), text);
    }
    const text = body.toString('utf8');
    if (status === 401) return new LadingError('unauthorized', `unauthorized: ${text.trim() || 'authentication required'}`);
    if (status === 429) return new LadingError('unavailable', `toomanyrequests: ${text.trim() || 'too many requests'}`);
    return new LadingError('internal', `error parsing HTTP ${status} response body: unexpected end of JSON input: ${JSON.stringify(text)}`);
  }
  return new LadingError('internal', `received unexpected HTTP status: ${status} ${res.statusText}`);
}

function header(res: HttpResult, name: string): string | undefined {
  const v = res.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : String(s);
}

function contentLength(res: HttpResult): number {
  const v = header(res, 'content-length');
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}
