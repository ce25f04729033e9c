import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../../errors.js';
import type { HistoryItem } from '../../images/image-history.js';
import type { ImageService } from '../../images/image-service.js';
import type { Platform } from '../../oci/types.js';
import { goMarshal } from '../../util/go-json.js';
import { checkRouteVersion, versionAtLeast } from '../api-version.js';
import { renderAttestations } from '../attestation-view.js';
import { boolValue, decodePlatform, platformList } from '../query.js';
import type { RequestContext, Router } from '../router.js';

/** `docker history` and `docker save`: endpoints that read images and change nothing. */
export function addImageReadRoutes(router: Router, images: ImageService): void {
  // Docker's routes are `{name:.*}`: an empty name reaches the image service (and fails there).
  router.add('GET', '/images/(.*)/history', async ({ res, version, params, query }: RequestContext) => {
    let platform: Platform | undefined;
    const platformParam = query.get('platform');
    if (platformParam && versionAtLeast(version, '1.48')) platform = decodePlatform(platformParam);
    const history = await images.history(params[0] ?? '', platform ? { platform } : {});
    // Go writes a nil slice (a config without history) as null; no HTML escaping in responses.
    const body = Buffer.from(goMarshal(history.length > 0 ? history.map(historyView) : null, { escapeHTML: false }) + '\n');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });

  router.add('GET', '/images/(.*)/attestations', async ({ res, version, params, query }: RequestContext) => {
    checkRouteVersion(version, 'GET /images/{name:.*}/attestations', '1.55');
    // The spec declares `platform` an array for later; one value only for now.
    const platforms = query.getAll('platform');
    if (platforms.length > 1) throw new InvalidArgumentError('only one platform value is currently supported');
    const platform = platforms[0] ? decodePlatform(platforms[0]) : undefined;
    const predicateTypes = query.getAll('type').map((t) => t.trim()).filter((t) => t !== '');
    const statements = await images.attestations(params[0] ?? '', {
      ...(platform ? { platform } : {}),
      predicateTypes,
      statement: boolValue(query.get('statement')),
    });
    const body = renderAttestations(statements);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });

  router.add('GET', '/images/get', (ctx: RequestContext) => save(images, ctx, ctx.query.getAll('names')));
  router.add('GET', '/images/(.*)/get', (ctx: RequestContext) => save(images, ctx, [ctx.params[0] ?? '']));
}

/** image.HistoryResponseItem, in its field order. */
function historyView(item: HistoryItem): object {
  return {
    Comment: item.comment,
    Created: item.created,
    CreatedBy: item.createdBy,
    Id: item.id,
    Size: item.size,
    Tags: item.tags,
  };
}

/**
 * The archive as `application/x-tar`, streamed with the client's pace. An error before the stream
 * starts is an ordinary JSON error response; one after it cuts the connection, so that no client
 * takes a truncated archive for a whole one.
 */
async function save(images: ImageService, { res, version, query }: RequestContext, names: string[]): Promise<void> {
  const archive = await images.save(names, { platforms: platformList(query, version) });
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(archive, res);
  } catch (err) {
    // The client went away: nothing to answer, nothing to log.
    if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw err;
  }
}
