import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goMarshal } from '../util/go-json.js';
import type { JsonMessage } from '../util/progress-message.js';
import { PushProgress } from './push-progress.js';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const layer = (c: string, size = 2_000_000) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(c), size });

test('push lines as Docker 28 writes them: Waiting, Pushing from 0, then one final line per blob', () => {
  const out: JsonMessage[] = [];
  const p = new PushProgress((m) => out.push(m));
  p.add(layer('a'));
  p.add(layer('b'));
  p.add({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('c'), size: 100 });
  p.add({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest('d'), size: 100 });
  p.add({ mediaType: 'application/vnd.example.blob', digest: digest('e'), size: 10 });
  p.update();
  assert.deepEqual(out.map((m) => `${m.id}: ${m.status}`), ['aaaaaaaaaaaa: Waiting', 'bbbbbbbbbbbb: Waiting', 'eeeeeeeeeeee: Waiting']);

  out.length = 0;
  const state = { kind: 'pushing' as const, offset: 0, total: 2_000_000 };
  p.set(digest('a'), state);
  p.update();
  assert.equal(goMarshal(out[0]), '{"status":"Pushing","progressDetail":{"total":2000000},"progress":"[\\u003e                                                  ]       0B/2MB","id":"aaaaaaaaaaaa"}');
  state.offset = 1_000_000;
  out.length = 0;
  p.update();
  assert.deepEqual(out[0]?.progressDetail, { current: 1_000_000, total: 2_000_000 });

  out.length = 0;
  p.set(digest('a'), { kind: 'pushed' });
  p.set(digest('b'), { kind: 'mounted', from: 'lab/source' });
  p.set(digest('e'), { kind: 'exists' });
  p.update();
  p.update();
  assert.deepEqual(out.map((m) => `${m.id}: ${m.status}`), [
    'aaaaaaaaaaaa: Pushed',
    'bbbbbbbbbbbb: Mounted from lab/source',
    'eeeeeeeeeeee: Already exists',
  ]);
});

test('after a fall back to one manifest, blobs not started are Unavailable; a layer there is Layer already exists', () => {
  const out: JsonMessage[] = [];
  const p = new PushProgress((m) => out.push(m));
  p.add(layer('a'));
  p.add(layer('b'));
  p.notStartedUnavailable = true;
  p.set(digest('b'), { kind: 'exists' });
  p.update();
  assert.deepEqual(out.map((m) => `${m.id}: ${m.status}`), ['aaaaaaaaaaaa: Unavailable', 'bbbbbbbbbbbb: Layer already exists']);
});
