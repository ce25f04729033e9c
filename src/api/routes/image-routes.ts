import { InvalidArgumentError } from '../../errors.js';
import type { ImageService } from '../../images/image-service.js';
import type { Platform } from '../../oci/types.js';
import { versionAtLeast } from '../api-version.js';
import { InspectCache } from '../inspect-cache.js';
import { renderInspect } from '../inspect-view.js';
import { JsonMessageStream } from '../json-stream.js';
import { boolValue, decodePlatform } from '../query.js';
import type { RequestContext, Router } from '../router.js';

/** Image endpoints: HTTP in, image service calls, Docker's documents out. */
export function addImageRoutes(router: Router, images: ImageService): void {
  const cache = new InspectCache();

  router.add('GET', '/images/(.+)/json', async ({ res, version, params, query }: RequestContext) => {
    const name = params[0] ?? '';
    const manifestsParam = query.get('manifests') ?? '';
    const platformParam = query.get('platform') ?? '';
    const manifests = manifestsParam !== '' && versionAtLeast(version, '1.48') && boolValue(manifestsParam);
    const usePlatform = platformParam !== '' && versionAtLeast(version, '1.49');

    const key = `${version}\0${name}\0${manifests ? 1 : 0}\0${usePlatform ? platformParam : ''}`;
    const generation = images.generation;
    let body = cache.get(key, generation);
    if (!body) {
      const platform: Platform | undefined = usePlatform ? decodePlatform(platformParam) : undefined;
      if (manifests && platform) {
        throw new InvalidArgumentError('conflicting options: manifests and platform options cannot both be set');
      }
      const image = await images.inspect(name, { manifests, ...(platform ? { platform } : {}) });
      body = renderInspect(image, version);
      cache.set(key, generation, body);
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
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
