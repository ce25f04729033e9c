// What the registry scenarios (pull, push) need installed; the bench installs nothing.
import { existsSync } from 'node:fs';
import { run } from '../../test/support/exec.js';
import { REGISTRY_BIN } from '../../test/support/registry.js';

export const SKOPEO = 'skopeo';

/** Why a scenario with a docker-registry and skopeo cannot run here, or undefined. */
export async function missingRegistryTools(): Promise<string | undefined> {
  const absent: string[] = [];
  if (!existsSync(REGISTRY_BIN) && !(await runs(REGISTRY_BIN, ['--version']))) absent.push(`${REGISTRY_BIN} (Debian: apt-get install docker-registry)`);
  if (!(await runs(SKOPEO, ['--version']))) absent.push('skopeo (Debian: apt-get install skopeo)');
  return absent.length > 0 ? `not installed: ${absent.join(', ')}` : undefined;
}

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await run(cmd, args, { timeoutMs: 10_000 })).code === 0;
  } catch {
    return false;
  }
}
