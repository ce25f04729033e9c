import { fsContentHarness } from './testing/fs-content-harness.js';
import { runContentStoreConformance } from './testing/content-store-conformance.js';

runContentStoreConformance('FsContentStore', fsContentHarness);
