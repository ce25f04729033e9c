import type { LoadClient, LoadJob, LoadRequest } from '../lib/http-load.js';

/** What every scenario gets from the runner. */
export interface Bench {
  quick: boolean;
  /** Generated stores and archives, kept between runs. */
  cacheDir: string;
  client: LoadClient;
  rounds: number;
  /** The layer-files scenario's layer, unpacked megabytes (`--layer-mb`); its default when absent. */
  layerMB?: number;
  /** A throughput job: its warmup and measured time. */
  job(socket: string, requests: LoadRequest[], serverPid?: number): LoadJob;
  log(msg: string): void;
}

/** 16 requests in flight, as the issue asks for every read scenario. */
export const IN_FLIGHT = 16;

/** The API version of every read: the newest that Docker 20.10 also speaks, so all servers get the same URLs. */
export const API = '/v1.41';

/** As the docker CLI sends it: names need no escaping (`:` and `/` stay as they are). */
export function inspectPath(name: string): string {
  return `${API}/images/${name}/json`;
}
