import { runBlobGraphConformance, runMetadataTransactionConformance } from './testing/blob-graph-conformance.js';
import {
  runBlobSourcesConformance,
  runImageRecordsConformance,
  runLayerFactsConformance,
  runTargetFactsConformance,
} from './testing/metadata-conformance.js';
import { runTargetPagesConformance } from './testing/target-pages-conformance.js';
import { sqliteHarness } from './testing/sqlite-harness.js';

runImageRecordsConformance('SqliteMetadataStore', sqliteHarness);
runLayerFactsConformance('SqliteMetadataStore', sqliteHarness);
runBlobSourcesConformance('SqliteMetadataStore', sqliteHarness);
runTargetFactsConformance('SqliteMetadataStore', sqliteHarness);
runTargetPagesConformance('SqliteMetadataStore', sqliteHarness);
runBlobGraphConformance('SqliteMetadataStore', sqliteHarness);
runMetadataTransactionConformance('SqliteMetadataStore', sqliteHarness);
