import type { EventBus } from '../events/event-bus.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { ContentReader } from '../content/content-reader.js';
import type { GarbageCollector } from '../gc/garbage-collector.js';

/** What tag, remove and prune work with: the stores, the event bus, and the garbage collector. */
export interface ImageMutationSources {
  metadata: MetadataStore;
  reader: ContentReader;
  events: EventBus;
  gc: GarbageCollector;
}
