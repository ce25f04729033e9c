/**
 * `GET /distribution/{name}/json`: Docker 28.5's getDistributionInfo
 * (api/server/router/distribution/distribution_routes.go), the registry asked through
 * src/registry/distribution-inspect.ts with the request's X-Registry-Auth.
 */
import { LadingError } from '../../errors.js';
import { parseAnyReference } from '../../reference/reference.js';
import { decodeAuthConfigLenient } from '../../registry/auth-config.js';
import { distributionInspect } from '../../registry/distribution-inspect.js';
import type { RegistryService } from '../../registry/registry-service.js';
import { goMarshal } from '../../util/go-json.js';
import type { RequestContext, Router } from '../router.js';

export interface DistributionService {
  readonly registry: RegistryService;
}

export function addDistributionRoutes(router: Router, images: DistributionService): void {
  router.add('GET', '/distribution/(.+)/json', async ({ req, res, params }: RequestContext) => {
    const name = params[0] ?? '';
    let parsed: ReturnType<typeof parseAnyReference>;
    try {
      parsed = parseAnyReference(name);
    } catch (err) {
      if (err instanceof LadingError) throw new LadingError('invalid-argument', err.message);
      throw err;
    }
    if ('digestOnly' in parsed) throw new LadingError('internal', 'no manifest found for full image ID');
    // Invalid credentials are ignored here, as Docker does (they may not be needed).
    const auth = decodeAuthConfigLenient(headerValue(req.headers['x-registry-auth']));
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client disconnected'));
    });
    const result = await distributionInspect(images.registry, parsed, { auth, signal: abort.signal });
    const json = Buffer.from(goMarshal(result, { escapeHTML: false }) + '\n');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': json.length });
    res.end(json);
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
