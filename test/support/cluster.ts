// Replicas of ladingd on one PostgreSQL and one docker-registry blob tier, each with a data root of
// its own for its cache (issue 14 item 7): what `--metadata postgres://` and `--blob-store` are for.
import { Daemon } from './daemon.js';
import { sharedPostgres } from './postgres.js';
import { Registry } from './registry.js';

export const BLOB_REPOSITORY = 'lading/blobs';

export interface Cluster {
  readonly url: string;
  readonly registry: Registry;
  readonly replicas: Daemon[];
  /** Another replica on the same database and tier. */
  addReplica(extraArgs?: readonly string[]): Promise<Daemon>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Flags every replica gets (`--lease-ttl 2s`). */
  extraArgs?: readonly string[];
  /** A database of a PostgreSQL the test stops and starts (startPostgres); else a fresh one of the shared one. */
  databaseUrl?: string;
}

/** The flags that make a ladingd a replica on `url` and the blob registry at `registryHost`. */
export function replicaArgs(url: string, registryHost: string): string[] {
  return ['--metadata', url, '--blob-store', `registry://${registryHost}/${BLOB_REPOSITORY}`, '--blob-cache-size', '64MiB'];
}

/** `n` replicas on one database and a registry of their own. */
export async function startCluster(n: number, options: ClusterOptions = {}): Promise<Cluster> {
  const extraArgs = options.extraArgs ?? [];
  const url = options.databaseUrl ?? (await (await sharedPostgres()).createDatabase());
  const registry = await Registry.start();
  const args = [...replicaArgs(url, registry.host), ...extraArgs];
  const replicas: Daemon[] = [];
  const addReplica = async (more: readonly string[] = []): Promise<Daemon> => {
    const d = await Daemon.start({ extraArgs: [...args, ...more] });
    replicas.push(d);
    return d;
  };
  // One after the other: the first applies the migrations, the others find them done.
  for (let i = 0; i < n; i++) await addReplica();
  return {
    url,
    registry,
    replicas,
    addReplica,
    async stop() {
      await Promise.all(replicas.map((d) => d.stop().catch(() => undefined)));
      await registry.stop();
    },
  };
}
