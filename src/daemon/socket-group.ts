import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { DEFAULT_SOCKET_GROUP } from './security-options.js';

/** A group's ID from the group database (/etc/group), or a numeric ID as given; undefined when unknown. */
export function lookupGroupId(name: string, groupFile = '/etc/group'): number | undefined {
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    // No group file: only numeric IDs resolve.
  }
  for (const line of text.split('\n')) {
    const [groupName, , gid] = line.split(':');
    if (groupName === name && gid !== undefined && /^[0-9]+$/.test(gid)) return Number(gid);
  }
  return /^[0-9]+$/.test(name) ? Number(name) : undefined;
}

/**
 * The group ID unix sockets get, by dockerd's rules (daemon/listeners): the named group; when the
 * default "docker" group does not exist, the daemon's own group with a warning; an explicit group
 * that does not exist is an error. '' means the daemon's own group.
 */
export function socketGroupId(group: string, explicit: boolean, log: Logger, groupFile?: string): number {
  const own = process.getgid?.() ?? 0;
  if (group === '') return own;
  const gid = lookupGroupId(group, groupFile);
  if (gid !== undefined) return gid;
  if (explicit || group !== DEFAULT_SOCKET_GROUP) throw new InvalidArgumentError(`group ${group} not found`);
  log.warn(`could not change group of the API socket to ${DEFAULT_SOCKET_GROUP}: group ${DEFAULT_SOCKET_GROUP} not found`);
  return own;
}
