// The shared conformance suites, run against PostgreSQL as against SQLite (sqlite-metadata-conformance.test.ts,
// gc/gc-conformance.test.ts): each check on a fresh schema of the test process's PostgreSQL.
import { describe } from 'node:test';
import { skipWithoutPostgres } from '../../../test/support/postgres.js';
import { fsContentHarness } from '../../content/testing/fs-content-harness.js';
import { runGarbageCollectionConformance } from '../../gc/testing/gc-conformance.js';
import { runBlobGraphConformance, runMetadataTransactionConformance } from '../testing/blob-graph-conformance.js';
import {
  runBlobSourcesConformance,
  runImageRecordsConformance,
  runLayerFactsConformance,
  runTargetFactsConformance,
} from '../testing/metadata-conformance.js';
import { runTargetPagesConformance } from '../testing/target-pages-conformance.js';
import { postgresHarness } from '../testing/postgres-harness.js';

const NAME = 'PostgresMetadataStore';
const skip = skipWithoutPostgres();

if (skip) {
  describe(`metadata conformance: ${NAME}`, { skip }, () => {});
} else {
  runImageRecordsConformance(NAME, postgresHarness);
  runLayerFactsConformance(NAME, postgresHarness);
  runBlobSourcesConformance(NAME, postgresHarness);
  runTargetFactsConformance(NAME, postgresHarness);
  runTargetPagesConformance(NAME, postgresHarness);
  runBlobGraphConformance(NAME, postgresHarness);
  runMetadataTransactionConformance(NAME, postgresHarness);
  runGarbageCollectionConformance(`FsContentStore and ${NAME}`, async () => {
    const [content, metadata] = [await fsContentHarness(), await postgresHarness()];
    return {
      store: { content: content.store.content, metadata: metadata.store },
      close: async () => {
        await metadata.close();
        await content.close();
      },
    };
  });
}
