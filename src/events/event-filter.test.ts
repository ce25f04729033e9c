import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFilters } from '../filters/filter-args.js';
import { EventBus, type EngineEvent } from './event-bus.js';
import { eventFilter } from './event-filter.js';

const ID = 'sha256:' + 'c'.repeat(64);
const event = (action: string, attributes: Record<string, string>, id = ID): EngineEvent => ({
  type: 'image',
  action,
  actor: { id, attributes },
  timeNano: 1n,
});
const tag = event('tag', { name: 'alpine:3', maintainer: 'me', 'com.x': 'y' });
const untag = event('untag', { name: 'example.com/team/app:1' });
const load = event('load', { name: ID });

function kept(filters: Record<string, string[]>, events: EngineEvent[] = [tag, untag, load]): string[] {
  const include = eventFilter(parseFilters(JSON.stringify(filters)));
  return events.filter((e) => !include || include(e)).map((e) => e.action);
}

describe('eventFilter (daemon/events Filter.Include)', () => {
  it('no filter: everything', () => {
    assert.equal(eventFilter(new Map()), undefined);
  });

  it('type and event match exactly', () => {
    assert.deepEqual(kept({ type: ['image'] }), ['tag', 'untag', 'load']);
    assert.deepEqual(kept({ type: ['container'] }), []);
    assert.deepEqual(kept({ event: ['tag', 'load'] }), ['tag', 'load']);
    assert.deepEqual(kept({ event: ['ta'] }), []);
  });

  it('image matches the ID, the name, and either without its tag', () => {
    assert.deepEqual(kept({ image: [ID] }), ['tag', 'untag', 'load']);
    assert.deepEqual(kept({ image: ['alpine:3'] }), ['tag']);
    assert.deepEqual(kept({ image: ['alpine'] }), ['tag']);
    assert.deepEqual(kept({ image: ['example.com/team/app'] }), ['untag']);
    assert.deepEqual(kept({ image: ['alpine:4'] }), []);
  });

  it('label needs every key (and value) among the attributes', () => {
    assert.deepEqual(kept({ label: ['maintainer'] }), ['tag']);
    assert.deepEqual(kept({ label: ['maintainer=me', 'com.x=y'] }), ['tag']);
    assert.deepEqual(kept({ label: ['maintainer=you'] }), []);
    assert.deepEqual(kept({ label: ['name'] }), ['tag', 'untag', 'load'], 'the name attribute counts too');
  });

  it('filters of other object types apply to image events too, by prefix of ID or name', () => {
    assert.deepEqual(kept({ container: ['abc'] }), []);
    assert.deepEqual(kept({ container: ['alp'] }), ['tag']);
    assert.deepEqual(kept({ volume: ['sha256:ccc'] }), ['tag', 'untag', 'load']);
  });

  it('scope: image events are local; unknown names are ignored as dockerd 28 ignores them', () => {
    assert.deepEqual(kept({ scope: ['local'] }), ['tag', 'untag', 'load']);
    assert.deepEqual(kept({ scope: ['swarm'] }), []);
    assert.deepEqual(kept({ nonsense: ['x'] }), ['tag', 'untag', 'load']);
  });
});

describe('EventBus.subscribeTopic', () => {
  it('replays kept events in [since, until] only when either is given, then streams new ones', () => {
    const bus = new EventBus(3);
    const first = bus.emit('image', 'load', ID);
    const second = bus.emit('image', 'tag', ID, { name: 'a:1' });
    const third = bus.emit('image', 'untag', ID, { name: 'a:1' });
    const live: string[] = [];
    const none = bus.subscribeTopic((e) => live.push(e.action));
    assert.deepEqual(none.buffered, []);
    none.unsubscribe();

    const between = bus.subscribeTopic(() => undefined, { since: second.timeNano, until: third.timeNano - 1n });
    assert.deepEqual(between.buffered, [second]);
    between.unsubscribe();

    const all = bus.subscribeTopic((e) => live.push(e.action), { since: 0n, include: (e) => e.action !== 'tag' });
    assert.deepEqual(all.buffered, [first, third]);
    bus.emit('image', 'tag', ID);
    bus.emit('image', 'delete', ID);
    assert.deepEqual(live, ['delete']);

    bus.emit('image', 'x1', ID);
    assert.equal(bus.history().length, 3, 'only the last `keep` events are kept');
    assert.ok(bus.history().every((e, i, list) => i === 0 || e.timeNano > list[i - 1]!.timeNano), 'strictly increasing times');
  });

  it('close ends every subscription', () => {
    const bus = new EventBus();
    let closed = 0;
    bus.subscribeTopic(() => undefined, { onClose: () => closed++ });
    bus.subscribeTopic(() => undefined, { onClose: () => closed++ });
    bus.close();
    assert.equal(closed, 2);
    assert.equal(bus.subscriberCount, 0);
  });
});
