import { compareVersions } from './api-version.js';
import { goMap, goMarshal } from '../util/go-json.js';
import type { EngineEvent } from '../events/event-bus.js';

/**
 * How an API version shapes an event, as data: later versions add rows, not branches.
 * - `legacyFields`: the deprecated `status`/`id`/`from` that Docker fills for container and image
 *   events, removed from API 1.52 (Engine 29) on.
 * - `imageCreate`: image `create` events are sent from API 1.46 on.
 */
const SHAPES: ReadonlyArray<{ from: string; legacyFields: boolean; imageCreate: boolean }> = [
  { from: '1.52', legacyFields: false, imageCreate: true },
  { from: '1.46', legacyFields: true, imageCreate: true },
  { from: '0', legacyFields: true, imageCreate: false },
];

function shapeFor(version: string): (typeof SHAPES)[number] {
  return SHAPES.find((s) => compareVersions(version, s.from) >= 0) ?? SHAPES[SHAPES.length - 1]!;
}

/** Whether a client speaking `version` is sent this event at all. */
export function sentAtVersion(event: EngineEvent, version: string): boolean {
  return shapeFor(version).imageCreate || !(event.type === 'image' && event.action === 'create');
}

/**
 * One line of `GET /events`: events.Message as Go's json.Encoder writes it (HTML escaped, fields in
 * struct order, empty `status`/`id`/`from` left out, Attributes sorted), then a newline.
 */
export function renderEvent(event: EngineEvent, version: string): string {
  const legacy = shapeFor(version).legacyFields;
  const id = event.actor.id;
  const message = {
    status: legacy && event.action ? event.action : undefined,
    id: legacy && id ? id : undefined,
    // `from` is the container's image; image events have none.
    from: legacy && event.type !== 'image' ? event.actor.attributes.image || undefined : undefined,
    Type: event.type,
    Action: event.action,
    Actor: { ID: id, Attributes: goMap(event.actor.attributes) },
    scope: 'local',
    time: event.timeNano / 1_000_000_000n,
    timeNano: event.timeNano,
  };
  return goMarshal(message) + '\n';
}
