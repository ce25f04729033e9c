// The event log replicas on one PostgreSQL share: each replica's bus gets every replica's events,
// in one order, with times that never go back; a replica started later replays them as history.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedPostgres, skipWithoutPostgres } from '../../test/support/postgres.js';
import { EventBus, type EngineEvent } from '../events/event-bus.js';
import { PostgresMetadataStore } from '../metadata/postgres/postgres-metadata-store.js';
import { PostgresEventLog } from './postgres-event-log.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const names = (events: readonly EngineEvent[]): string[] => events.map((e) => `${e.action} ${e.actor.id}`);

describe('PostgresEventLog', { skip: skipWithoutPostgres() }, () => {
  let url: string;
  const buses: EventBus[] = [];
  let metadata: PostgresMetadataStore;
  before(async () => {
    url = await (await sharedPostgres()).createDatabase();
    metadata = await PostgresMetadataStore.open(url); // Migrates.
  });
  after(async () => {
    for (const bus of buses) bus.close();
    await sleep(100);
    await metadata.close();
  });

  async function replica(): Promise<{ bus: EventBus; seen: EngineEvent[] }> {
    const bus = new EventBus();
    await bus.share(new PostgresEventLog(url));
    buses.push(bus);
    const seen: EngineEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    return { bus, seen };
  }

  it('every replica streams every replica\'s events in one order; a later one replays them for since', async () => {
    const [a, b] = [await replica(), await replica()];
    for (let i = 0; i < 10; i++) (i % 2 === 0 ? a : b).bus.emit('image', 'tag', `img-${i}`, { name: `n:${i}` });
    for (let waited = 0; (a.seen.length < 10 || b.seen.length < 10) && waited < 10_000; waited += 50) await sleep(50);
    assert.equal(a.seen.length, 10, 'A got all ten');
    assert.deepEqual(names(b.seen), names(a.seen), 'B in the same order as A');
    // Each replica's own events in the order it emitted them.
    const own = (from: number): string[] => names(a.seen).filter((n) => Number(n.split('-')[1]) % 2 === from);
    assert.deepEqual(own(0), ['tag img-0', 'tag img-2', 'tag img-4', 'tag img-6', 'tag img-8']);
    assert.deepEqual(own(1), ['tag img-1', 'tag img-3', 'tag img-5', 'tag img-7', 'tag img-9']);
    const times = a.seen.map((e) => e.timeNano);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, 'times never go back');

    const c = await replica();
    const { buffered, unsubscribe } = c.bus.subscribeTopic(() => {}, { since: 0n });
    unsubscribe();
    assert.deepEqual(names(buffered), names(a.seen), 'C, started later, replays them');
  });
});
