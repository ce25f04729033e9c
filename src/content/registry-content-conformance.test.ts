// The ContentStore conformance suite against the registry tier, on a real docker-registry.
import { after } from 'node:test';
import { runContentStoreConformance } from './testing/content-store-conformance.js';
import { registryContentHarness, stopSharedRegistry } from './testing/registry-content-harness.js';

after(() => stopSharedRegistry());
runContentStoreConformance('RegistryContentStore', registryContentHarness);
