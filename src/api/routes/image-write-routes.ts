import { InvalidArgumentError } from '../../errors.js';
import { parseFilters } from '../../filters/filter-args.js';
import type { ImageService } from '../../images/image-service.js';
import { tagReference } from '../../images/image-tag.js';
import { versionAtLeast } from '../api-version.js';
import { sendJson } from '../json-response.js';
import { boolValue, decodePlatform } from '../query.js';
import type { RequestContext, Router } from '../router.js';

/**
 * `POST /images/{name}/tag` (docker tag), `DELETE /images/{name}` (docker rmi) and
 * `POST /images/prune` (docker image prune), parsed as Docker 28's image router parses them.
 */
export function addImageWriteRoutes(router: Router, images: ImageService): void {
  router.add('POST', '/images/prune', async ({ res, query }: RequestContext) => {
    sendJson(res, await images.prune(parseFilters(query.get('filters') ?? '')));
  });

  router.add('POST', '/images/(.*)/tag', async ({ res, params, query }: RequestContext) => {
    // No `repo`: Docker's handler returns without error or body, so 200 and nothing tagged.
    const ref = tagReference(query.get('repo') ?? '', query.get('tag') ?? '');
    if (ref) await images.tag(params[0] ?? '', ref);
    res.writeHead(ref ? 201 : 200, { 'Content-Length': 0 });
    res.end();
  });

  router.add('DELETE', '/images/(.*)', async ({ res, version, params, query }: RequestContext) => {
    const name = params[0] ?? '';
    if (name.trim() === '') throw new InvalidArgumentError('image name cannot be blank');
    const platforms = versionAtLeast(version, '1.50') ? query.getAll('platforms').map(decodePlatform) : [];
    const report = await images.remove(name, {
      force: boolValue(query.get('force')),
      prune: !boolValue(query.get('noprune')),
      platforms,
    });
    sendJson(res, report.length > 0 ? report : null);
  });
}
