import { matchAcceptStrict } from './accept.js';
import { compareVersions } from './api-version.js';
import { goMap, goMarshal } from '../util/go-json.js';
import type { EngineEvent } from '../events/event-bus.js';

/**
 * How an API version shapes an event, as data: later versions add rows, not branches.
 * - `legacyFields`: the deprecated `status`/`id`/`from` that Docker fills for container and image
 *   events, removed from API 1.52 (Engine 29) on.
 * - `imageCreate`: image `create` events are sent from API 1.46 on.
 * - `contentType`: the stream's type without an `Accept` naming one of STREAM_TYPES; `negotiates`:
 *   whether `Accept` is read (Docker 29; Docker 28.5, the rule below 1.52, always says application/json).
 */
const SHAPES: ReadonlyArray<{
  from: string;
  legacyFields: boolean;
  imageCreate: boolean;
  contentType: string;
  negotiates: boolean;
}> = [
  { from: '1.52', legacyFields: false, imageCreate: true, contentType: 'application/jsonl', negotiates: true },
  { from: '1.46', legacyFields: true, imageCreate: true, contentType: 'application/json', negotiates: false },
  { from: '0', legacyFields: true, imageCreate: false, contentType: 'application/json', negotiates: false },
];

const JSON_SEQ = 'application/json-seq';
/** What Docker 29's getEvents offers to `Accept`, in its order of preference on a tie. */
const STREAM_TYPES = ['application/jsonl', 'application/x-ndjson', JSON_SEQ] as const;
/** RFC 7464's record separator, written before each record of a json-seq stream. */
const RECORD_SEPARATOR = '\x1e';

export interface EventStreamFormat {
  contentType: string;
  /** Written before each record (each ends with a newline in every format). */
  recordPrefix: string;
}

/** The `Content-Type` and framing of `GET /events` for `version` and the request's `Accept`. */
export function eventStreamFormat(version: string, accept: string | undefined): EventStreamFormat {
  const shape = shapeFor(version);
  const contentType = (shape.negotiates && matchAcceptStrict(accept, STREAM_TYPES)) || shape.contentType;
  return { contentType, recordPrefix: contentType === JSON_SEQ ? RECORD_SEPARATOR : '' };
}

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
