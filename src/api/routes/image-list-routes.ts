import type { ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../../errors.js';
import { addFilter, parseFilters } from '../../filters/filter-args.js';
import type { ImageService } from '../../images/image-service.js';
import { versionAtLeast, versionLessThan } from '../api-version.js';
import { renderDiskUsage, type DiskUsageReport } from '../disk-usage-view.js';
import { renderImageList } from '../image-summary-view.js';
import type { InspectResponses } from '../inspect-cache.js';
import { boolValue } from '../query.js';
import type { RequestContext, Router } from '../router.js';

const DISK_USAGE_TYPES = ['container', 'image', 'volume', 'build-cache'] as const;

/**
 * `GET /images/json` (docker images) and `GET /system/df` (docker system df). An answer depends on
 * its URL and the image service's generation only, so it goes into the server's responses by URL
 * (answered again before any routing), except a list with `until`, which may be relative to now.
 */
export function addImageListRoutes(router: Router, images: ImageService, responses: InspectResponses): void {
  router.add('GET', '/images/json', async ({ req, res, version, query }: RequestContext) => {
    const filters = parseFilters(query.get('filters') ?? '');
    const legacyFilter = query.get('filter') ?? '';
    if (versionLessThan(version, '1.41') && legacyFilter !== '') addFilter(filters, 'reference', legacyFilter);
    const manifests = versionAtLeast(version, '1.47') && boolValue(query.get('manifests'));
    // getImagesJSON reads `identity` from 1.54 on, and only with `manifests`.
    const identity = versionAtLeast(version, '1.54') && boolValue(query.get('identity'));
    if (identity && !manifests) throw new InvalidArgumentError('conflicting options: identity requires manifests=1');
    const generation = images.generation;
    const render = async (): Promise<Buffer> =>
      renderImageList(
        await images.list({
          all: boolValue(query.get('all')),
          filters,
          sharedSize: versionAtLeast(version, '1.42') && boolValue(query.get('shared-size')),
          manifests,
          identity,
        }),
        version,
      );
    if (filters.has('until')) {
      send(res, await render());
      return;
    }
    const url = req.url ?? '';
    responses.send(url, generation, await responses.renderOnce(url, generation, render), res);
  });

  router.add('GET', '/system/df', async ({ req, res, version, query }: RequestContext) => {
    const wanted = new Set<string>(DISK_USAGE_TYPES);
    // The `type` parameter counts from API 1.42, present even when empty.
    if (versionAtLeast(version, '1.42') && query.has('type')) {
      wanted.clear();
      for (const type of query.getAll('type')) {
        if (!(DISK_USAGE_TYPES as readonly string[]).includes(type)) throw new InvalidArgumentError(`unknown object type: ${type}`);
        wanted.add(type);
      }
    }
    const generation = images.generation;
    const url = req.url ?? '';
    const body = await responses.renderOnce(url, generation, async () => {
      const report: DiskUsageReport = {
        containers: wanted.has('container'),
        volumes: wanted.has('volume'),
        buildCache: wanted.has('build-cache'),
        // Read from API 1.52 on, where it drops the legacy fields.
        verbose: versionAtLeast(version, '1.52') && boolValue(query.get('verbose')),
        ...(wanted.has('image') ? { images: await images.diskUsage() } : {}),
      };
      return renderDiskUsage(report, version);
    });
    responses.send(url, generation, body, res);
  });
}

function send(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}
