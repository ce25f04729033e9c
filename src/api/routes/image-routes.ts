import { InvalidArgumentError } from '../../errors.js';
import type { ImageService } from '../../images/image-service.js';
import type { Platform } from '../../oci/types.js';
import { versionAtLeast } from '../api-version.js';
import type { InspectResponses } from '../inspect-cache.js';
import { renderInspect } from '../inspect-view.js';
import { JsonMessageStream } from '../json-stream.js';
import { boolValue, decodePlatform } from '../query.js';
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
    const image = await images.inspect(name, { manifests, ...(platform ? { platform } : {}) });
    responses.send(req.url ?? '', generation, renderInspect(image, version), res);
  });

  router.add('POST', '/images/load', async ({ req, res, version, query }: RequestContext) => {
    let platform: Platform | undefined;
    if (versionAtLeast(version, '1.48')) {
      if (query.getAll('platform').length > 1) {
        throw new InvalidArgumentError('multiple platform parameters not supported');
      }
      const p = query.get('platform');
      if (p) platform = decodePlatform(p);
    }
    // Nothing is written before the import has finished, so a bad archive still gets a 4xx.
    const loaded = await images.load(req, platform ? { platform } : {});
    const stream = new JsonMessageStream(res);
    for (const image of loaded) {
      stream.stream(`${image.tagged ? 'Loaded image' : 'Loaded image ID'}: ${image.name}\n`);
    }
    stream.end();
  });
}
