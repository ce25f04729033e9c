import { InvalidArgumentError } from '../../errors.js';
import type { ImageService, InspectOptions } from '../../images/image-service.js';
import { decodeAuthConfigLenient } from '../../registry/auth-config.js';
import type { Platform } from '../../oci/types.js';
import { versionAtLeast } from '../api-version.js';
import type { InspectResponses } from '../inspect-cache.js';
import { renderInspect } from '../inspect-view.js';
import { streamMessages } from '../json-stream.js';
import { boolValue, decodePlatform, platformList } from '../query.js';
import type { RequestContext, Router } from '../router.js';

/** Image endpoints: HTTP in, image service calls, Docker's documents out. */
export function addImageRoutes(router: Router, images: ImageService, responses: InspectResponses): void {
  // Only misses get here: server.ts answers a URL that `responses` holds before routing it.
  router.add('GET', '/images/(.+)/json', async ({ req, res, version, params, query }: RequestContext) => {
    const name = params[0] ?? '';
    const manifestsParam = query.get('manifests') ?? '';
    const platformParam = query.get('platform') ?? '';
    const manifests = manifestsParam !== '' && versionAtLeast(version, '1.48') && boolValue(manifestsParam);
    const usePlatform = platformParam !== '' && versionAtLeast(version, '1.49');

    const generation = images.generation;
    const platform: Platform | undefined = usePlatform ? decodePlatform(platformParam) : undefined;
    if (manifests && platform) {
      throw new InvalidArgumentError('conflicting options: manifests and platform options cannot both be set');
    }
    if (boolValue(query.get('remote'))) {
      await inspectRemote({ req, res, version, params, query }, images, name, { manifests, ...(platform ? { platform } : {}) });
      return;
    }
    const image = await images.inspect(name, { manifests, ...(platform ? { platform } : {}) });
    responses.send(req.url ?? '', generation, renderInspect(image, version), res);
  });

  router.add('POST', '/images/load', async ({ req, res, version, query }: RequestContext) => {
    const platforms = platformList(query, version);
    // Docker 28.5's one platform up to 1.51; 29.7's list (and words) from 1.52.
    const requested = versionAtLeast(version, '1.52') ? { platforms } : platforms[0] ? { platform: platforms[0] } : {};
    // Docker's BoolValueOrDefault: quiet unless asked otherwise (the CLI asks when on a terminal).
    const quiet = query.has('quiet') ? boolValue(query.get('quiet')) : true;
    // Quiet, nothing is written before the import has finished, so a refused archive gets a 4xx;
    // otherwise the first `Loading layer` line starts a 200 and later errors go in the stream.
    await streamMessages(
      req,
      res,
      version,
      async (write, signal) => {
        const loaded = await images.load(req, { ...requested, ...(quiet ? {} : { progress: write }), signal });
        for (const image of loaded) {
          write({ stream: `${image.tagged ? 'Loaded image' : 'Loaded image ID'}: ${image.name}\n` });
        }
      },
      { readsBody: true },
    );
  });
}

/**
 * `?remote=1`, Lading's own: the image as its registry has it, shaped as any inspect, with the
 * request's `X-Registry-Auth` as a pull takes it. Never kept in the response cache: the registry
 * may move the tag, and the answer depends on credentials the URL does not show.
 */
async function inspectRemote(
  { req, res, version }: RequestContext,
  images: ImageService,
  name: string,
  options: InspectOptions,
): Promise<void> {
  // Credentials that do not decode are ignored, as for a pull (they may not be needed).
  const header = req.headers['x-registry-auth'];
  const auth = decodeAuthConfigLenient(Array.isArray(header) ? header[0] : header);
  // A client that goes away cancels the registry requests.
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(new Error('client disconnected'));
  });
  const image = await images.inspectRemote(name, { ...options, auth, signal: abort.signal });
  const body = renderInspect(image, version);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}
