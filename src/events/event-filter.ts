import { exactMatch, filterValues, fuzzyMatch, matchKVList, type FilterArgs } from '../filters/filter-args.js';
import { familiarName, parseNormalizedNamed } from '../reference/reference.js';
import type { EngineEvent } from './event-bus.js';

/** Object types whose filter matches an actor's ID or `name` attribute by prefix. */
const NAMED_TYPES = ['daemon', 'container', 'plugin', 'volume', 'network', 'node', 'service', 'secret', 'config'];
/** Actions filtered by prefix when asked for without their detail (`health_status`, not `health_status: healthy`). */
const PREFIX_ACTIONS = new Set(['health_status', 'exec_create', 'exec_start']);

/**
 * Docker's daemon/events Filter.Include; undefined when there is no filter. Every filter applies to
 * every event whatever its type (`container=x` leaves out image events unless their ID or name
 * starts with `x`), and names dockerd 28 does not know are ignored, as it ignores them.
 */
export function eventFilter(filters: FilterArgs): ((event: EngineEvent) => boolean) | undefined {
  if (filters.size === 0) return undefined;
  const eventByPrefix = filterValues(filters, 'event').some((v) => PREFIX_ACTIONS.has(v));
  return (event) => {
    const { id, attributes } = event.actor;
    const name = attributes.name ?? '';
    if (!(eventByPrefix ? fuzzyMatch : exactMatch)(filters, 'event', event.action)) return false;
    if (!exactMatch(filters, 'type', event.type)) return false;
    if (filters.has('scope') && !exactMatch(filters, 'scope', 'local')) return false;
    for (const type of NAMED_TYPES) {
      if (!fuzzyMatch(filters, type, id) && !fuzzyMatch(filters, type, name)) return false;
    }
    if (!matchImage(filters, event)) return false;
    return !filters.has('label') || matchKVList(filters, 'label', attributes);
  };
}

/** An image event matches `image=` by its ID, its name, or either without tag (`alpine` for `alpine:3`). */
function matchImage(filters: FilterArgs, event: EngineEvent): boolean {
  const id = event.actor.id;
  // Container events name their image in `image`; Lading has only image events.
  const imageName = event.actor.attributes[event.type === 'image' ? 'name' : 'image'] ?? '';
  return (
    exactMatch(filters, 'image', id) ||
    exactMatch(filters, 'image', imageName) ||
    exactMatch(filters, 'image', stripTag(id)) ||
    exactMatch(filters, 'image', stripTag(imageName))
  );
}

function stripTag(image: string): string {
  try {
    return familiarName(parseNormalizedNamed(image));
  } catch {
    return image;
  }
}
