import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { configureMinApiVersion } from '../api/api-version.js';
import type { DaemonInfo } from '../api/daemon-info.js';
import { createApiServer } from '../api/server.js';
import { BlobCache } from '../content/blob-cache.js';
import { BackgroundSweep } from '../gc/background-sweep.js';
import type { ContentStore } from '../content/content-store.js';
import { FsContentStore } from '../content/fs-content-store.js';
import { RegistryContentStore } from '../content/registry-content-store.js';
import { RegistryBlobs } from '../registry/registry-blobs.js';
import { InvalidArgumentError, LadingError } from '../errors.js';
import { ImageService, SNAPSHOTTER } from '../images/image-service.js';
import { RegistryService } from '../registry/registry-service.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { createLogger, type Logger } from '../util/logger.js';
import { humanSize } from '../util/go-size.js';
import { resolveConfig, type DaemonConfig } from './config.js';
import { readBuildInfo } from './build-info.js';
import { answers, lockDataRoot } from './data-root-lock.js';
import { parseFlags, USAGE } from './flags.js';
import { formatListenAddress, isLoopback, parseListenAddress, type ListenAddress } from './listen-address.js';
import { DEFAULT_SECURITY_CONFIG, type SecurityConfig } from './security-options.js';
import { socketGroupId } from './socket-group.js';
import { runCheck } from './check.js';
import { openMetadata, type OpenedMetadata } from './metadata-open.js';
import { StartupCheck } from './startup-check.js';
import { checkMetricsAccess, formatMetricsAddress } from './metrics-options.js';
import { LadingMetrics } from '../metrics/lading-metrics.js';
import { createMetricsServer } from '../metrics/metrics-server.js';
import { loadTlsOptions } from './tls.js';
import { startExplorer } from './explorer-listener.js';

const PRODUCT = 'Lading';
const SHUTDOWN_GRACE_MS = 15_000;
/** The whole stop: the servers' grace, then closing the stores. */
const STOP_DEADLINE_MS = SHUTDOWN_GRACE_MS + 10_000;
/** After a complete stop, time for streams to flush before the process ends regardless. */
const EXIT_AFTER_STOP_MS = 500;
/** The blob gauges list every blob: at most this often, however often Prometheus scrapes. */
const BLOB_COUNT_INTERVAL_MS = 30_000;

/** `ladingd [OPTIONS]`: resolves the configuration, opens the stores, serves until a signal. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'check') return runCheck(argv.slice(1));
  const flags = parseFlags(argv);
  const version = packageVersion();
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.version) {
    // As dockerd: `Docker version 28.5.1, build f8215cc`.
    const { gitCommit } = readBuildInfo();
    process.stdout.write(`ladingd version ${version}${gitCommit ? `, build ${gitCommit}` : ''}\n`);
    return 0;
  }
  const config = resolveConfig(flags);
  configureMinApiVersion(process.env.DOCKER_MIN_API_VERSION);
  const log = createLogger(config.logLevel, undefined, config.logFormat);
  // Handlers go in before the start: a client may see the socket answer and send SIGTERM before
  // the start has returned (the explorer's and metrics' listeners come after the API's); the stop
  // then follows the start. They stay installed: a second signal during shutdown must not kill
  // requests in flight.
  let signals = 0;
  let requestStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  const onSignal = (signal: string): void => {
    signals++;
    log.info(`Processing signal '${signal}'`);
    if (signals === 1) requestStop();
    else if (signals >= 3) {
      log.warn('Forcing shutdown after 3 signals');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => onSignal('interrupt'));
  process.on('SIGTERM', () => onSignal('terminated'));
  const daemon = await startDaemon(config, log, version);
  for (const address of daemon.addresses) {
    if (address.kind === 'unix') {
      process.stdout.write(`export DOCKER_HOST=${formatListenAddress(address)}\n`);
      break;
    }
  }
  await stopRequested;
  // Work that never ends (a stuck read, a registry that never answers) must not keep the process
  // alive: the stop has its deadline, and once it is done, whatever still runs is cut.
  const deadline = setTimeout(() => {
    log.warn(`Shutdown did not complete within ${STOP_DEADLINE_MS} ms, exiting`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
  await daemon.stop();
  clearTimeout(deadline);
  log.info('Daemon shutdown complete');
  setTimeout(() => process.exit(0), EXIT_AFTER_STOP_MS).unref();
  return 0;
}

export interface RunningDaemon {
  addresses: ListenAddress[];
  images: ImageService;
  stop(): Promise<void>;
}

export async function startDaemon(config: DaemonConfig, log: Logger, version: string): Promise<RunningDaemon> {
  const security = config.security ?? DEFAULT_SECURITY_CONFIG;
  const addresses = config.hosts.map((host) => parseListenAddress(host, { tls: security.tls !== undefined }));
  // Checked before anything is opened: a bad certificate or group stops the start.
  const tlsOptions = security.tls ? loadTlsOptions(security.tls) : undefined;
  const socketGid = addresses.some((a) => a.kind === 'unix')
    ? socketGroupId(security.socketGroup, security.socketGroupExplicit, log)
    : undefined;
  // Refusals that need nothing on disk come before anything is created.
  if (config.metrics) checkMetricsAccess(config.metrics, security.tls !== undefined);
  await checkUnixSockets(addresses, config.defaultSocketDir);
  // The first directory this start created, if any: removed again if the start fails.
  const createdRoot = await fs.mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
  const lock = await lockDataRoot(config.dataRoot);

  const servers: Server[] = [];
  let metadata: OpenedMetadata | undefined;
  let startupCheck: StartupCheck | undefined;
  let sweep: BackgroundSweep | undefined;
  let images: ImageService;
  try {
    const registry = new RegistryService(config.registry ?? {});
    const metrics = config.metrics ? new LadingMetrics() : undefined;
    const { content, cache } = await openContentStore(config, registry, log, metrics);
    const removed = await content.cleanIngest();
    if (removed > 0) log.info(`Removed ${removed} interrupted write(s) from the ingest area`);
    metadata = await openMetadata(config, log);
    // Claims save a replica the download of a blob another is fetching into the tier they share.
    if (metadata.fetchClaims && config.blobStore) registry.shareFetches(metadata.fetchClaims);
    if (metadata.replica) metrics?.labelReplica(metadata.replica);
    const limits = { maxUnpackedLayerSize: security.maxUnpackedLayerSize, maxDecompressionRatio: security.maxDecompressionRatio };
    images = new ImageService(metrics ? metrics.measuringDeletes(content) : content, metadata.metadata, registry, log, limits, metadata.leases, metadata.gc?.queue);
    // What another replica's review released leaves this replica's cache too: never served from it again.
    if (cache) metadata.onReleased?.({ released: (digests) => void evictAll(cache, digests), unknown: () => void evictAll(cache, cache.list().map((b) => b.digest)) });
    if (metadata.gc) sweep = new BackgroundSweep(images.gc, metadata.gc.intervalMs, log);
    if (metadata.eventLog) await images.events.share(metadata.eventLog);
    if (metrics) observe(metrics, images, metadata.metadata, content);
    startupCheck = await StartupCheck.open(config.dataRoot, images, log);

    const info = daemonInfo(config, version, log);
    for (const address of addresses) {
      const server = createApiServer(images, info, log, {
        ...(address.kind === 'tcp' && tlsOptions ? { tls: tlsOptions } : {}),
        headersTimeoutMs: security.requestHeaderTimeoutMs,
        uploadIdleTimeoutMs: security.uploadIdleTimeoutMs,
        ...(metrics ? { observer: metrics.api } : {}),
      });
      servers.push(await listen(server, address, log, security, socketGid, config.defaultSocketDir));
    }
    if (config.ui) servers.push(await startExplorer(config.ui, images, { dataRoot: config.dataRoot, limits, tls: tlsOptions, headersTimeoutMs: security.requestHeaderTimeoutMs }, log));
    if (metrics && config.metrics) {
      const { host, port } = config.metrics;
      const server = createMetricsServer(metrics, log, tlsOptions);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // An empty host is every interface, as Go's net.Listen takes it.
        if (host === '') server.listen(port, resolve);
        else server.listen(port, host, resolve);
      });
      servers.push(server);
      log.info(`Serving metrics on ${tlsOptions ? 'https' : 'http'}://${formatMetricsAddress(config.metrics)}/metrics`);
    }
  } catch (err) {
    // Undo: nothing was served, so a data root this start made goes, and a marker it wrote too.
    await Promise.all(servers.map(closeServer));
    await startupCheck?.stop();
    await metadata?.close();
    await lock.release();
    if (createdRoot !== undefined) await fs.rm(createdRoot, { recursive: true, force: true });
    throw err;
  }
  log.info(`Lading ${version} serving the Docker Engine API on ${addresses.map(formatListenAddress).join(', ')}`);
  startupCheck.start();
  sweep?.start();
  images.gc.buildGraph((msg) => log.info(msg)).catch((err: unknown) => log.warn(`Blob graph not built: ${(err as Error).message}`));

  return {
    addresses,
    images,
    async stop() {
      await Promise.all(servers.map(closeServer));
      for (const address of addresses) if (address.kind === 'unix') await fs.rm(address.path, { force: true });
      await images.gc.stopGraphBuild();
      await sweep?.stop();
      await startupCheck.stop();
      await metadata.close();
      await lock.release();
    },
  };
}

/**
 * The embedded store on the data root's disk, or with --blob-store the registry tier, whose cache
 * lives in `<data-root>/blob-cache` (not under `content/`, which the start-up check reads as the
 * embedded store's blobs).
 */
async function openContentStore(config: DaemonConfig, registry: RegistryService, log: Logger, metrics: LadingMetrics | undefined): Promise<{ content: ContentStore; cache?: BlobCache }> {
  if (!config.blobStore) {
    const content = new FsContentStore(path.join(config.dataRoot, 'content'));
    await content.init();
    return { content };
  }
  const { location, cacheBytes, auth } = config.blobStore;
  const cache = new BlobCache(path.join(config.dataRoot, 'blob-cache'), cacheBytes);
  await cache.init();
  metrics?.watchBlobCache(cache);
  const remote = new RegistryBlobs(registry, location, auth);
  log.info(`Blobs in ${remote.location}, read through a cache of ${humanSize(cacheBytes)} (${humanSize(cache.size)} kept)`);
  return { content: new RegistryContentStore(remote, cache), cache };
}

/** Drops `digests` from the blob cache; a failure to unlink is the next read's to find (a miss, or a fetch that verifies). */
async function evictAll(cache: BlobCache, digests: readonly string[]): Promise<void> {
  for (const digest of digests) await cache.evict(digest).catch(() => undefined);
}

/** Feeds the metrics from the image service's operation log and garbage collector, and the store's sizes. */
function observe(metrics: LadingMetrics, images: ImageService, metadata: MetadataStore, content: ContentStore): void {
  images.ops.observer = metrics.operationObserver;
  images.gc.observer = metrics.gcObserver;
  metrics.watchStore(
    {
      get generation() {
        return images.generation;
      },
      countTargets: () => images.imageCount(),
      countRecords: async () => (await metadata.listImages()).length,
      listBlobs: () => content.list(),
    },
    BLOB_COUNT_INTERVAL_MS,
  );
}

/**
 * Before anything is created: a unix socket's directory must exist (only Lading's own is made), and no
 * daemon may answer on the socket already.
 */
async function checkUnixSockets(addresses: readonly ListenAddress[], defaultSocketDir: string | undefined): Promise<void> {
  for (const address of addresses) {
    if (address.kind !== 'unix') continue;
    const dir = path.dirname(address.path);
    if (dir !== defaultSocketDir) {
      const stat = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (!stat) throw new InvalidArgumentError(`can't create unix socket ${address.path}: directory ${dir} does not exist`);
      if (!stat.isDirectory()) throw new InvalidArgumentError(`can't create unix socket ${address.path}: ${dir} is not a directory`);
    }
    await refuseIfAnswered(address.path);
  }
}

async function refuseIfAnswered(socket: string): Promise<void> {
  if (await answers(socket)) throw new LadingError('unavailable', `${socket}: address already in use by a running daemon`);
}

async function listen(
  server: Server,
  address: ListenAddress,
  log: Logger,
  security: SecurityConfig,
  socketGid: number | undefined,
  defaultSocketDir: string | undefined,
): Promise<Server> {
  if (address.kind === 'unix') {
    const dir = path.dirname(address.path);
    if (dir === defaultSocketDir) await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    // Again: another daemon may have started since the check.
    await refuseIfAnswered(address.path);
    await fs.rm(address.path, { force: true });
  } else {
    checkTcpAccess(address, security, log);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (address.kind === 'unix') {
      // Created with no permission bits at all, then opened to 0660 and its group: at no moment
      // can anyone else connect (go-connections' NewUnixSocket does the same).
      const umask = process.umask(0o777);
      try {
        server.listen(address.path, resolve);
      } finally {
        process.umask(umask);
      }
    } else server.listen(address.port, address.host, resolve);
  });
  if (address.kind === 'unix') {
    await fs.chmod(address.path, 0o660);
    if (socketGid !== undefined) await chownSocket(address.path, socketGid, security.socketGroupExplicit, log);
  }
  return server;
}

/**
 * TCP without TLS only on loopback, and loudly; with TLS anywhere, with a warning unless clients
 * must present a certificate signed by the CA (--tlsverify).
 */
function checkTcpAccess(address: ListenAddress & { kind: 'tcp' }, security: SecurityConfig, log: Logger): void {
  const where = formatListenAddress(address);
  if (!security.tls) {
    if (!isLoopback(address.host)) {
      throw new LadingError(
        'forbidden',
        `refusing to listen on ${where} without TLS: unauthenticated access to the API gives full control of the image store; use --tlsverify with --tlscacert, --tlscert and --tlskey`,
      );
    }
    log.warn(`Binding to ${where} without TLS: any local user can use the API`);
    log.warn(`Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!`);
  } else if (!security.tls.verify) {
    log.warn(`Binding to ${where} with TLS but without --tlsverify: any client that can reach it can use the API`);
  }
}

/** The socket's group, as dockerd sets it; a default group the daemon may not give away only warns. */
async function chownSocket(file: string, gid: number, explicit: boolean, log: Logger): Promise<void> {
  try {
    await fs.chown(file, process.getuid?.() ?? 0, gid);
  } catch (err) {
    if (explicit) throw new LadingError('forbidden', `can't create unix socket ${file}: ${(err as Error).message}`, { cause: err });
    log.warn(`could not change group of ${file} to ${gid}: ${(err as Error).message}`);
  }
}

/** Stops accepting, lets requests in flight finish, then cuts what is left after a grace period. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function daemonInfo(config: DaemonConfig, version: string, log: Logger): DaemonInfo {
  const build = readBuildInfo();
  return {
    id: '',
    productName: PRODUCT,
    version,
    gitCommit: build.gitCommit ?? '',
    buildTime: build.buildTime ?? '',
    runtimeVersion: `node${process.versions.node}`,
    arch: ({ x64: 'amd64', arm64: 'arm64', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch,
    machine: os.machine(),
    kernelVersion: os.release(),
    operatingSystem: operatingSystem(),
    hostname: os.hostname(),
    cpus: os.availableParallelism(),
    memTotal: os.totalmem(),
    dataRoot: config.dataRoot,
    storageDriver: SNAPSHOTTER,
    debug: log.debugEnabled,
    openFileDescriptors: () => {
      try {
        return readdirSync('/proc/self/fd').length;
      } catch {
        return 0;
      }
    },
  };
}

function operatingSystem(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release);
    return pretty?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

function packageVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
