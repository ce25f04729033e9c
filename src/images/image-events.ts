/**
 * Image events as Docker 28's containerd image service logs them (daemon/containerd/image_events.go).
 * Two kinds, and which one an action uses matters to clients that filter on labels:
 * - with labels (LogImageEvent): the labels of the image the ID resolves to at that moment (none
 *   once it is gone, so `delete` has none), then `name`. Used by load, save, import (ID and name =
 *   target digest), tag (ID = target digest, name = the new familiar name), delete (ID = name =
 *   target digest), pull and push (ID = `alpine:latest`, name = `alpine`).
 * - name only (logImageEvent): ID = target digest, `name` = familiar name. Used by untag, and by
 *   prune's untag and delete.
 */
import type { EventBus } from '../events/event-bus.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { hostPreferenceMatcher } from '../oci/platform.js';
import { ContentReader } from '../content/content-reader.js';
import { bestPresentImage, configLabels } from './present-content.js';
import { resolveImage } from './resolve.js';

export interface ImageEventSources {
  metadata: MetadataStore;
  reader: ContentReader;
  events: EventBus;
}

/** The Actor attributes LogImageEvent gives `imageId`: its config labels, then `name`. */
export async function imageEventAttributes(
  src: Omit<ImageEventSources, 'events'>,
  imageId: string,
  refName: string,
): Promise<Record<string, string>> {
  let attributes: Record<string, string> = {};
  try {
    const record = await resolveImage(src.metadata, imageId);
    attributes = configLabels((await bestPresentImage(src.reader, record, hostPreferenceMatcher())).config);
  } catch {
    // Gone (a delete) or unreadable: no labels, as Docker's GetImage error leaves none.
  }
  if (refName) attributes.name = refName;
  return attributes;
}

/** Docker's LogImageEvent. */
export async function logImageEvent(src: ImageEventSources, imageId: string, refName: string, action: string): Promise<void> {
  src.events.emit('image', action, imageId, await imageEventAttributes(src, imageId, refName));
}

/** Docker's logImageEvent: the target digest and the name only. */
export function logImageNameEvent(events: EventBus, targetDigest: string, refName: string, action: string): void {
  events.emit('image', action, targetDigest, refName ? { name: refName } : {});
}
