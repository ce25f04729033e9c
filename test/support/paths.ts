import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout root, found from this file whether it runs from test/ or dist/test/. */
export const repoRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
})();

/**
 * Docker's published API specs: `LADING_TEST_REFERENCE_DIR`, else shared/reference beside the checkout
 * (this team's layout and CI). A clean clone elsewhere has neither; tests that need them skip.
 */
export function sharedReference(name: string): string {
  const dir = process.env.LADING_TEST_REFERENCE_DIR || path.join(repoRoot, '..', 'shared', 'reference');
  return path.join(dir, name);
}

const made: string[] = [];
process.on('exit', () => {
  if (process.env.LADING_KEEP_TEST_TMP) return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temp dir under the OS tmpdir (short paths: unix sockets allow ~107 bytes), removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `lading-${prefix}-`));
  made.push(dir);
  return dir;
}
