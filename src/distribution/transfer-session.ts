import type { Reference } from '../reference/reference.js';
import type { Repository } from '../registry/manifest-fetch.js';
import type { RegistryService, RepositoryOptions } from '../registry/registry-service.js';
import { TaskGroup } from './task-group.js';

/** What a pull or push needs of one repository: its endpoint, and the group its transfers stop with. */
export interface TransferSession {
  group: TaskGroup;
  repo: Repository;
}

/**
 * Opens `ref`'s repository for a pull or a push (`push` asks for the push scope). One failure
 * stops the other transfers of the same pull or push, and so does `options.signal` (a client gone).
 */
export async function openTransferSession(
  registry: RegistryService,
  ref: Reference,
  options: Omit<RepositoryOptions, 'signal'> & { signal?: AbortSignal | undefined },
): Promise<TransferSession> {
  const group = new TaskGroup(options.signal);
  const repo = await registry.repository(ref.domain, ref.path, {
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.push ? { push: true } : {}),
    signal: group.signal,
    ...(options.onExchange ? { onExchange: options.onExchange } : {}),
  });
  return { group, repo };
}
