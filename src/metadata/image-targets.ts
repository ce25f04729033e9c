import type { Descriptor } from '../oci/types.js';

/**
 * Parsed targets by their JSON, so that the records of an image read again and again (lists of the
 * same images) share one descriptor: nothing re-parsed, and what is rendered from it once (the
 * list's Descriptor) is found by identity. Descriptors are never changed in place.
 */
const TARGETS = new Map<string, Descriptor>();
const TARGETS_MAX = 10_000;

/** The descriptor a stored record's target JSON holds, shared with every other read of the same JSON. */
export function parseTarget(json: string): Descriptor {
  let target = TARGETS.get(json);
  if (!target) {
    target = JSON.parse(json) as Descriptor;
    if (TARGETS.size >= TARGETS_MAX) TARGETS.delete(TARGETS.keys().next().value as string);
    TARGETS.set(json, target);
  }
  return target;
}
