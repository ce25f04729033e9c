/**
 * The Docker Engine API's container runtime, which Lading does not have: containers, exec, volumes,
 * networks, plugins, swarm and builds (paths from the v1.51 spec). Three answers, all Docker's shapes:
 * - a request that would run, build or change one of them: 501 with Docker's `{"message"}` naming the
 *   operation. Anything but a 404 keeps `docker run` from pulling (its create answers "image missing"
 *   only with a 404), and the text avoids the words `docker run` maps to exits 126 and 127;
 * - a read of one such object by name: 404 with Docker's "no such" text, which is true, and which
 *   `docker inspect NAME` skips on its way to the image;
 * - a list or a prune: the empty answer, as Docker's api/types (v28.5.1) write it, so that `docker ps`,
 *   `docker system prune` and the tools that poll containers work.
 */
import { NotFoundError, NotImplementedError } from '../../errors.js';
import { parseFilters, validateFilters } from '../../filters/filter-args.js';
import { sendJson } from '../json-response.js';
import type { Router } from '../router.js';

export const NO_RUNTIME = 'Lading stores images and runs no containers';

/** Method, path (`{x}` one segment, `{x*}` any, as Docker's `{x:.*}`), operation (after "cannot"). */
type Refused = readonly [method: string, path: string, operation: string];

const REFUSED: readonly Refused[] = [
  ['POST', '/containers/create', 'create a container'],
  ['POST', '/containers/{id}/start', 'start a container'],
  ['POST', '/containers/{id}/stop', 'stop a container'],
  ['POST', '/containers/{id}/restart', 'restart a container'],
  ['POST', '/containers/{id}/kill', 'kill a container'],
  ['POST', '/containers/{id}/pause', 'pause a container'],
  ['POST', '/containers/{id}/unpause', 'unpause a container'],
  ['POST', '/containers/{id}/update', 'update a container'],
  ['POST', '/containers/{id}/rename', 'rename a container'],
  ['POST', '/containers/{id}/resize', "resize a container's TTY"],
  ['POST', '/containers/{id}/attach', 'attach to a container'],
  ['POST', '/containers/{id}/wait', 'wait for a container'],
  ['PUT', '/containers/{id}/archive', 'copy files into a container'],
  ['DELETE', '/containers/{id}', 'remove a container'],
  ['POST', '/containers/{id}/exec', 'run a command in a container'],
  ['POST', '/commit', 'commit a container to an image'],
  ['POST', '/exec/{id}/start', 'start an exec instance'],
  ['POST', '/exec/{id}/resize', "resize an exec instance's TTY"],
  ['POST', '/volumes/create', 'create a volume'],
  ['PUT', '/volumes/{name*}', 'update a volume'],
  ['DELETE', '/volumes/{name*}', 'remove a volume'],
  ['POST', '/networks/create', 'create a network'],
  ['POST', '/networks/{id*}/connect', 'connect a container to a network'],
  ['POST', '/networks/{id*}/disconnect', 'disconnect a container from a network'],
  ['DELETE', '/networks/{id*}', 'remove a network'],
  ['GET', '/plugins/privileges', "read a plugin's privileges"],
  ['POST', '/plugins/pull', 'install a plugin'],
  ['POST', '/plugins/create', 'create a plugin'],
  ['POST', '/plugins/{name*}/enable', 'enable a plugin'],
  ['POST', '/plugins/{name*}/disable', 'disable a plugin'],
  ['POST', '/plugins/{name*}/upgrade', 'upgrade a plugin'],
  ['POST', '/plugins/{name*}/push', 'push a plugin'],
  ['POST', '/plugins/{name*}/set', 'configure a plugin'],
  ['DELETE', '/plugins/{name*}', 'remove a plugin'],
  ['GET', '/swarm', 'inspect a swarm'],
  ['POST', '/swarm/init', 'initialize a swarm'],
  ['POST', '/swarm/join', 'join a swarm'],
  ['POST', '/swarm/leave', 'leave a swarm'],
  ['POST', '/swarm/update', 'update a swarm'],
  ['GET', '/swarm/unlockkey', "read a swarm's unlock key"],
  ['POST', '/swarm/unlock', 'unlock a swarm'],
  ['GET', '/nodes', 'list swarm nodes'],
  ['GET', '/nodes/{id}', 'inspect a swarm node'],
  ['POST', '/nodes/{id}/update', 'update a swarm node'],
  ['DELETE', '/nodes/{id}', 'remove a swarm node'],
  ['GET', '/services', 'list swarm services'],
  ['POST', '/services/create', 'create a swarm service'],
  ['GET', '/services/{id}', 'inspect a swarm service'],
  ['POST', '/services/{id}/update', 'update a swarm service'],
  ['DELETE', '/services/{id}', 'remove a swarm service'],
  ['GET', '/services/{id}/logs', "read a swarm service's logs"],
  ['GET', '/tasks', 'list swarm tasks'],
  ['GET', '/tasks/{id}', 'inspect a swarm task'],
  ['GET', '/tasks/{id}/logs', "read a swarm task's logs"],
  ['GET', '/secrets', 'list swarm secrets'],
  ['POST', '/secrets/create', 'create a swarm secret'],
  ['GET', '/secrets/{id}', 'inspect a swarm secret'],
  ['POST', '/secrets/{id}/update', 'update a swarm secret'],
  ['DELETE', '/secrets/{id}', 'remove a swarm secret'],
  ['GET', '/configs', 'list swarm configs'],
  ['POST', '/configs/create', 'create a swarm config'],
  ['GET', '/configs/{id}', 'inspect a swarm config'],
  ['POST', '/configs/{id}/update', 'update a swarm config'],
  ['DELETE', '/configs/{id}', 'remove a swarm config'],
  ['POST', '/build', 'build an image'],
  ['POST', '/build/cancel', 'cancel a build'],
  ['POST', '/session', 'start a build session'],
  ['POST', '/grpc', 'start a build session'],
];

/** Reads of one object by name: Docker's not-found text for it (daemon/errors.go, libnetwork, volume, plugin). */
type Absent = readonly [method: string, path: string, notFound: (name: string) => string];

const noSuchContainer = (id: string): string => `No such container: ${id}`;
const ABSENT: readonly Absent[] = [
  ...['json', 'top', 'logs', 'changes', 'export', 'stats', 'archive', 'attach/ws'].map(
    (what): Absent => ['GET', `/containers/{id}/${what}`, noSuchContainer],
  ),
  ['HEAD', '/containers/{id}/archive', noSuchContainer],
  ['GET', '/exec/{id}/json', (id) => `No such exec instance: ${id}`],
  ['GET', '/volumes/{name*}', (name) => `get ${name}: no such volume`],
  ['GET', '/networks/{id*}', (id) => `network ${id} not found`],
  ['GET', '/plugins/{name*}/json', (name) => `plugin ${JSON.stringify(name)} not found`],
];

/** Lists and prunes of what Lading never has, with the filters Docker accepts for each (daemon/prune.go, volume/service). */
type Empty = readonly [method: string, path: string, answer: unknown, acceptedFilters?: readonly string[]];

const EMPTY: readonly Empty[] = [
  ['GET', '/containers/json', []],
  ['GET', '/volumes', { Volumes: [], Warnings: null }],
  ['GET', '/networks', []],
  ['GET', '/plugins', []],
  ['POST', '/containers/prune', { ContainersDeleted: null, SpaceReclaimed: 0 }, ['label', 'label!', 'until']],
  ['POST', '/networks/prune', { NetworksDeleted: null }, ['label', 'label!', 'until']],
  ['POST', '/volumes/prune', { VolumesDeleted: null, SpaceReclaimed: 0 }, ['label', 'label!', 'all']],
  // BuildKit's own filters (id, type, until, …) are many; with no cache there is nothing they could select.
  ['POST', '/build/prune', { CachesDeleted: null, SpaceReclaimed: 0 }],
];

/** `{x}` is one path segment, `{x*}` anything (plugin names and network IDs may hold slashes in Docker's routes). */
function pattern(path: string): string {
  return path.replace(/\{[a-z]+\*\}/g, '(.+)').replace(/\{[a-z]+\}/g, '([^/]+)');
}

export function addNoRuntimeRoutes(router: Router): void {
  // Lists first, so that `/volumes` is not read as a volume named ''.
  for (const [method, path, answer, accepted] of EMPTY) {
    router.add(method, pattern(path), ({ res, query }) => {
      if (accepted) validateFilters(parseFilters(query.get('filters') ?? ''), new Set(accepted));
      sendJson(res, answer);
    });
  }
  for (const [method, path, operation] of REFUSED) {
    router.add(method, pattern(path), () => {
      throw new NotImplementedError(`${NO_RUNTIME}: cannot ${operation}`);
    });
  }
  for (const [method, path, notFound] of ABSENT) {
    router.add(method, pattern(path), ({ params }) => {
      throw new NotFoundError(notFound(params[0] ?? ''));
    });
  }
}
