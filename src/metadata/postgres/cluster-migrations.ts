import type { Migration } from './postgres-schema.js';

/** The channel new events are announced on: one per schema (cluster/postgres-event-log.ts). */
export function eventChannel(schema: string): string {
  return `lading_events_${schema}`;
}

/** The channel a review's released blobs are announced on, so every replica evicts them from its cache. */
export function releaseChannel(schema: string): string {
  return `lading_released_${schema}`;
}

/** What replicas share beyond the metadata: the event log, the leases, GC's review queue (src/cluster/). Appended to MIGRATIONS. */
export const CLUSTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 2,
    description: 'the event log and the leases replicas share',
    sql: `
-- Every replica's events, in one order: seq. Appends take an advisory lock, so seq order is commit
-- order (a reader that has seen seq n has seen everything before it) and time_nano never goes back.
CREATE TABLE events (
  seq        BIGINT PRIMARY KEY,
  time_nano  BIGINT NOT NULL,
  type       TEXT NOT NULL,
  action     TEXT NOT NULL,
  actor_id   TEXT NOT NULL,
  attributes JSONB NOT NULL
);
CREATE FUNCTION lading_event_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lading_events_' || TG_TABLE_SCHEMA, NEW.seq::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER events_added AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION lading_event_added();

-- Blobs a write in flight on a replica (owner) holds; renewed by the owner's heartbeat, so the
-- leases of a replica that died lapse at expires_at and garbage collection may take its orphans.
CREATE TABLE leases (
  digest     TEXT COLLATE "C" NOT NULL,
  owner      TEXT NOT NULL,
  holds      INTEGER NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (digest, owner)
);
CREATE INDEX leases_by_owner ON leases (owner);
`,
  },
  {
    version: 3,
    description: 'the review queue of garbage collection',
    sql: `
-- Blobs that may have lost their last user (GitLab's online GC review queues): queued by removals,
-- prunes, writes that failed, and lapsed leases; claimed by any replica once due, with FOR UPDATE
-- SKIP LOCKED, and deleted in the transaction that forgets the blob's records. A claim whose replica
-- dies is rolled back and claimed again. Postponed while a lease holds the blob.
CREATE TABLE gc_review_queue (
  digest       TEXT COLLATE "C" PRIMARY KEY,
  review_after TIMESTAMPTZ NOT NULL,
  queued_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  postponed    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gc_review_queue_due ON gc_review_queue (review_after);
`,
  },
];
