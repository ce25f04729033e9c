import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Harness } from '../util/conformance.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';
import { runBlobGraphConformance, runMetadataTransactionConformance } from './testing/blob-graph-conformance.js';
import {
  runBlobSourcesConformance,
  runImageRecordsConformance,
  runLayerFactsConformance,
  runTargetFactsConformance,
} from './testing/metadata-conformance.js';

/** A store on a file of its own (WAL, as the daemon's), removed with it. */
async function sqliteStore(): Promise<Harness<SqliteMetadataStore>> {
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

runImageRecordsConformance('SqliteMetadataStore', sqliteStore);
runLayerFactsConformance('SqliteMetadataStore', sqliteStore);
runBlobSourcesConformance('SqliteMetadataStore', sqliteStore);
runTargetFactsConformance('SqliteMetadataStore', sqliteStore);
runBlobGraphConformance('SqliteMetadataStore', sqliteStore);
runMetadataTransactionConformance('SqliteMetadataStore', sqliteStore);
