import type { DaemonInfo } from '../daemon-info.js';
import type { ImageService } from '../../images/image-service.js';
import { currentMinApiVersion, MAX_API_VERSION } from '../api-version.js';
import { sendJson } from '../json-response.js';
import type { RequestContext, Router } from '../router.js';

const PING_HEADERS = {
  'Content-Type': 'text/plain; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  'Builder-Version': '2',
  Swarm: 'inactive',
};

/** `/_ping`, `/version`, `/info`: what clients ask before anything else. */
export function addSystemRoutes(router: Router, images: ImageService, info: DaemonInfo): void {
  const ping = ({ req, res }: RequestContext): void => {
    const body = req.method === 'HEAD' ? '' : 'OK';
    res.writeHead(200, { ...PING_HEADERS, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  router.add('GET', '/_ping', ping);
  router.add('HEAD', '/_ping', ping);

  router.add('GET', '/version', ({ res }) => {
    // Unknown to a build without scripts/write-build-info.js: the detail is left out, and Go's
    // omitempty drops BuildTime (never GitCommit) from the top level.
    const details = {
      ApiVersion: MAX_API_VERSION,
      Arch: info.arch,
      ...(info.buildTime ? { BuildTime: info.buildTime } : {}),
      Experimental: 'false',
      ...(info.gitCommit ? { GitCommit: info.gitCommit } : {}),
      GoVersion: info.runtimeVersion,
      KernelVersion: info.kernelVersion,
      MinAPIVersion: currentMinApiVersion(),
      Os: 'linux',
    };
    sendJson(res, {
      Platform: { Name: info.productName },
      Components: [{ Name: 'Engine', Version: info.version, Details: details }],
      Version: info.version,
      ApiVersion: MAX_API_VERSION,
      MinAPIVersion: currentMinApiVersion(),
      GitCommit: info.gitCommit,
      GoVersion: info.runtimeVersion,
      Os: 'linux',
      Arch: info.arch,
      KernelVersion: info.kernelVersion,
      ...(info.buildTime ? { BuildTime: info.buildTime } : {}),
    });
  });

  router.add('GET', '/info', async ({ res }) => {
    const imageCount = await images.imageCount();
    sendJson(res, {
      ID: info.id,
      Containers: 0,
      ContainersRunning: 0,
      ContainersPaused: 0,
      ContainersStopped: 0,
      Images: imageCount,
      Driver: info.storageDriver,
      DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']],
      Plugins: { Volume: [], Network: [], Authorization: null, Log: [] },
      MemoryLimit: false,
      SwapLimit: false,
      CpuCfsPeriod: false,
      CpuCfsQuota: false,
      CPUShares: false,
      CPUSet: false,
      PidsLimit: false,
      IPv4Forwarding: false,
      Debug: info.debug,
      NFd: info.openFileDescriptors(),
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: '',
      CgroupDriver: '',
      CgroupVersion: '',
      NEventsListener: 0,
      KernelVersion: info.kernelVersion,
      OperatingSystem: info.operatingSystem,
      OSVersion: '',
      OSType: 'linux',
      Architecture: info.machine,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(images),
      NCPU: info.cpus,
      MemTotal: info.memTotal,
      GenericResources: null,
      DockerRootDir: info.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: info.hostname,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: info.version,
      Runtimes: {},
      DefaultRuntime: '',
      Swarm: {
        NodeID: '',
        NodeAddr: '',
        LocalNodeState: 'inactive',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: null,
      },
      LiveRestoreEnabled: false,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: [],
      Warnings: null,
    });
  });
}

/** registry.ServiceConfig as Docker marshals it (through a map: keys sorted). */
function registryConfig(images: ImageService): Map<string, unknown> {
  const sc = images.registry.config.serviceConfig();
  return new Map<string, unknown>([
    ['IndexConfigs', sc.indexConfigs],
    ['InsecureRegistryCIDRs', sc.insecureRegistryCIDRs],
    ['Mirrors', sc.mirrors],
  ]);
}
