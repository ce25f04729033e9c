/** Facts about the running daemon that `/version` and `/info` report. */
export interface DaemonInfo {
  id: string;
  productName: string;
  version: string;
  gitCommit: string;
  buildTime: string;
  runtimeVersion: string;
  arch: string;
  machine: string;
  kernelVersion: string;
  operatingSystem: string;
  hostname: string;
  cpus: number;
  memTotal: number;
  dataRoot: string;
  storageDriver: string;
  debug: boolean;
  openFileDescriptors(): number;
}
