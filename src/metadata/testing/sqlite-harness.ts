import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Harness } from '../../util/conformance.js';
import { SqliteMetadataStore } from '../sqlite-metadata-store.js';

/** A SqliteMetadataStore on a file of its own (WAL, as the daemon's), removed with it. */
export async function sqliteHarness(): Promise<Harness<SqliteMetadataStore>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-metadata-'));
  const store = new SqliteMetadataStore(path.join(dir, 'metadata.db'));
  return {
    store,
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
