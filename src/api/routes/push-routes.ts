/**
 * `POST /images/{name}/push`: `docker push`, as Docker 28.5's postImagesPush
 * (api/server/router/image/image_routes.go) reads it: `tag` (none: every tag of the repository),
 * `platform` (API 1.46+, JSON), `X-Registry-Auth` (ignored when it does not decode). Errors before
 * the first progress line are HTTP errors; after it they travel in the stream.
 */
import { InvalidArgumentError, LadingError } from '../../errors.js';
import type { PushImageOptions } from '../../images/image-push.js';
import type { Platform } from '../../oci/types.js';
import { parseNormalizedNamed, withTag, type Reference } from '../../reference/reference.js';
import { versionAtLeast } from '../api-version.js';
import { errorMessage } from '../http-errors.js';
import { registryAuth, streamMessages } from '../json-stream.js';
import { decodePlatform } from '../query.js';
import type { RequestContext, Router } from '../router.js';

/** What the route needs of the image service. */
export interface PushService {
  push(ref: Reference, options: PushImageOptions): Promise<void>;
}

export function addPushRoutes(router: Router, images: PushService): void {
  router.add('POST', '/images/(.*)/push', async ({ req, res, version, params, query }: RequestContext) => {
    const ref = pushReference(params[0] ?? '', query.get('tag') ?? '');
    let platform: Platform | undefined;
    // Older clients may send a platform the daemon never supported: ignored below 1.46.
    if (versionAtLeast(version, '1.46')) {
      const p = query.get('platform') ?? '';
      if (p !== '') platform = decodePlatform(p);
    }
    const auth = registryAuth(req);
    await streamMessages(
      req,
      res,
      version,
      (write, signal) => images.push(ref, { ...(platform ? { platform } : {}), auth, progress: write, signal }),
    );
  });
}

/** httputils.RepoTagReference with `tag`, else the name as given (no tag: every tag is pushed). */
export function pushReference(name: string, tag: string): Reference {
  let ref: Reference;
  try {
    ref = parseNormalizedNamed(name);
    if (tag !== '') {
      if (ref.digest) throw new Error('cannot import digest reference');
      ref = withTag(ref, tag);
    }
  } catch (err) {
    if (err instanceof LadingError && err.kind !== 'internal') throw err;
    throw new InvalidArgumentError(errorMessage(err));
  }
  return ref;
}
