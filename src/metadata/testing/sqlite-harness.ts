import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Harness } from '../../util/conformance.js';
import { SqliteMetadataStore } from '../sqlite-metadata-store.js';

/**
 * A SqliteMetadataStore on a file of its own (WAL, as the daemon's), removed with it; `open` makes
 * another kind of store on the file (a deliberately broken one, conformance-faults.test.ts).
 */
export async function sqliteHarness(
  open: (file: string) => SqliteMetadataStore = (file) => new SqliteMetadataStore(file),
): Promise<Harness<SqliteMetadataStore>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-metadata-'));
  const store = open(path.join(dir, 'metadata.db'));
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
