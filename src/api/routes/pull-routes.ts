/**
 * `POST /images/create` with `fromImage`: `docker pull`, as Docker 28.5's postImagesCreate
 * (api/server/router/image/image_routes.go) reads it. Errors before the first progress line are
 * HTTP errors; after it they travel in the stream, the status being 200 already.
 */
import { InvalidArgumentError, LadingError } from '../../errors.js';
import type { ImportOptions } from '../../images/image-service.js';
import { openUrl } from '../../distribution/url-source.js';
import { progressMessage, statusMessage } from '../../util/progress-message.js';
import type { PullImageOptions } from '../../images/image-pull.js';
import type { RegistryService } from '../../registry/registry-service.js';
import { hostPlatform } from '../../oci/platform.js';
import type { Platform } from '../../oci/types.js';
import {
  familiarName,
  parseAnyReference,
  parseNormalizedNamed,
  tagNameOnly,
  trimNamed,
  withDigest,
  withTag,
  type Reference,
} from '../../reference/reference.js';
import { parseAuthConfigJson, type AuthConfig } from '../../registry/auth-config.js';
import { login } from '../../registry/login.js';
import { goMarshal } from '../../util/go-json.js';
import { parsePlatformSpecifier } from '../../registry/platform-specifier.js';
import { versionAtLeast } from '../api-version.js';
import { errorMessage } from '../http-errors.js';
import { registryAuth, streamMessages } from '../json-stream.js';
import type { RequestContext, Router } from '../router.js';

/** What the routes need of the image service. */
export interface PullService {
  readonly registry: RegistryService;
  pull(ref: Reference, options: PullImageOptions): Promise<void>;
  importImage(body: AsyncIterable<Uint8Array>, options: ImportOptions): Promise<string>;
}

export function addPullRoutes(router: Router, images: PullService): void {
  // `docker login`: Docker's postAuth (api/server/router/system/system_routes.go).
  router.add('POST', '/auth', async ({ req, res }: RequestContext) => {
    const body = await readRequestBody(req, 64 * 1024);
    let auth: AuthConfig;
    try {
      auth = parseAuthConfigJson(body.toString('utf8'));
    } catch (err) {
      throw new LadingError('internal', errorMessage(err));
    }
    const result = await login(images.registry, auth);
    const json = Buffer.from(goMarshal({ IdentityToken: result.identityToken, Status: result.status }) + '\n');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': json.length });
    res.end(json);
  });

  router.add('POST', '/images/create', async ({ req, res, version, query }: RequestContext) => {
    const fromImage = query.get('fromImage') ?? '';
    const tag = query.get('tag') ?? '';
    let platform: Platform | undefined;
    if (versionAtLeast(version, '1.32')) {
      const p = query.get('platform') ?? '';
      if (p !== '') platform = parsePlatformSpecifier(p, hostPlatform());
    }
    if (fromImage === '') return importImage(req, res, version, images, query, platform);

    const ref = referenceToPull(fromImage, tag);
    if (familiarName(ref) === 'scratch') throw new LadingError('forbidden', "'scratch' is a reserved name");
    // Docker 28 ignores credentials it cannot decode for a pull (they may not be needed).
    const auth = registryAuth(req);
    // Docker 29 (API 1.52+) also fetches the platform's attestations, and draws no progress bars.
    const attestations = versionAtLeast(version, '1.52');
    await streamMessages(
      req,
      res,
      version,
      (write, signal) => images.pull(ref, { ...(platform ? { platform } : {}), auth, progress: write, signal, attestations }),
    );
  });
}

/**
 * `docker import`: postImagesCreate's import branch. `fromSrc=-` reads the body; otherwise `fromSrc`
 * is a URL (`http://` added when it has no scheme) whose download is reported as Docker reports it.
 * The answer's last line is the image ID.
 */
async function importImage(
  req: RequestContext['req'],
  res: RequestContext['res'],
  version: string,
  images: PullService,
  query: RequestContext['query'],
  platform: Platform | undefined,
): Promise<void> {
  const src = query.get('fromSrc') ?? '';
  const ref = repoTagReference(query.get('repo') ?? '', query.get('tag') ?? '');
  const message = query.get('message') || `Imported from ${src}`;
  const options = { ...(ref ? { ref } : {}), ...(platform ? { platform } : {}), message, changes: query.getAll('changes') };
  if (src === '-') {
    await streamMessages(req, res, version, async (write, signal) => {
      const id = await images.importImage(req, { ...options, signal });
      write(statusMessage('', id));
    }, { readsBody: true });
    return;
  }
  let url: URL;
  try {
    url = new URL(src.includes('://') ? src : `http://${src}`);
  } catch {
    throw new InvalidArgumentError(`parse "${src}": invalid URL`);
  }
  const download = await openUrl(url);
  await streamMessages(req, res, version, async (write, signal) => {
    write(statusMessage('', `Downloading from ${url.href}`));
    const id = await images.importImage(counted(download.body, download.length, write), { ...options, signal });
    write(statusMessage('', id));
  });
}

/** progress.NewProgressReader's `Importing` lines, at most one per 100 ms and one at the end. */
async function* counted(body: AsyncIterable<Uint8Array>, total: number, write: (m: object) => void): AsyncGenerator<Uint8Array> {
  let current = 0;
  let last = 0;
  const report = (): void => write(progressMessage({ id: '', action: 'Importing', current, ...(total > 0 ? { total } : {}) }));
  for await (const chunk of body) {
    current += chunk.length;
    if (Date.now() - last >= 100) {
      last = Date.now();
      report();
    }
    yield chunk;
  }
  report();
}

/** httputils.RepoTagReference: `repo` with `tag`, `latest` without; none without `repo`. */
export function repoTagReference(repo: string, tag: string): Reference | undefined {
  if (repo === '') return undefined;
  try {
    const ref = parseNormalizedNamed(repo);
    if (ref.digest) throw new InvalidArgumentError('cannot import digest reference');
    return tag !== '' ? withTag(ref, tag) : tagNameOnly(ref);
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * `fromImage` (a trailing `:` from `pull -a` dropped) and `tag`, which may be a digest, made into
 * the reference to pull; name-only means every tag.
 */
export function referenceToPull(fromImage: string, tag: string): Reference {
  let ref = parseNormalizedNamed(fromImage.endsWith(':') ? fromImage.slice(0, -1) : fromImage);
  if (tag !== '') {
    // go-digest's Parse: a valid digest in `tag` means pull by digest.
    let parsed: ReturnType<typeof parseAnyReference> | undefined;
    try {
      parsed = tag.includes(':') ? parseAnyReference(tag) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed && 'digestOnly' in parsed) ref = withDigest(trimNamed(ref), parsed.digestOnly);
    else ref = withTag(ref, tag);
  }
  return ref;
}

async function readRequestBody(req: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) throw new LadingError('invalid-argument', `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
