/**
 * Starts the explorer (`--ui`): its layer listings kept under the data root, its server on the
 * address asked for, and the URL to open printed as Jupyter prints its own, token included.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { TlsOptions } from 'node:tls';
import { createExplorerServer, UI_PREFIX } from '../explorer/explorer-server.js';
import { newAccessToken } from '../explorer/access-token.js';
import { ImageExplorer } from '../images/image-explorer.js';
import type { ImageService } from '../images/image-service.js';
import { LayerListings } from '../images/layer-files.js';
import type { ImportLimits } from '../layers/compression.js';
import type { Logger } from '../util/logger.js';
import type { UiConfig } from './ui-options.js';

/** Where kept layer listings go: derived data, safe to delete (it is computed again). */
export const LISTINGS_DIR = 'layer-listings';

export async function startExplorer(
  ui: UiConfig,
  images: ImageService,
  options: { dataRoot: string; limits: ImportLimits; tls: TlsOptions | undefined; headersTimeoutMs: number },
  log: Logger,
): Promise<Server> {
  const listings = new LayerListings(images.content, options.limits, path.join(options.dataRoot, LISTINGS_DIR));
  // Listings of layers deleted while the explorer was off go; a layer's blob never comes back changed.
  listings.removeStale((digest) => images.content.has(digest)).catch((err: unknown) => log.warn(`Layer listings not swept: ${(err as Error).message}`));
  const token = ui.token ? newAccessToken() : undefined;
  const server = createExplorerServer(new ImageExplorer(images, listings), log, {
    ...(token ? { token } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    headersTimeoutMs: options.headersTimeoutMs,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ui.port, ui.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = ui.host.includes(':') ? `[${ui.host}]` : ui.host;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}${UI_PREFIX}${token ? `?token=${token}` : ''}`;
  if (!token) log.warn(`The explorer on ${host}:${port} has no access token (--ui-token=false): any local user can read the image store`);
  log.info(`Lading explorer serving on ${host}:${port}`);
  process.stdout.write(`Lading explorer: open ${url}\n`);
  return server;
}
