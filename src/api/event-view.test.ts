import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../events/event-bus.js';
import { eventStreamFormat, renderEvent, sentAtVersion } from './event-view.js';

const ID = 'sha256:' + 'd'.repeat(64);
const tag: EngineEvent = {
  type: 'image',
  action: 'tag',
  actor: { id: ID, attributes: { name: 'a:1', 'com.example': '<b>&', aaa: 'first' } },
  timeNano: 1_795_736_139_063_919_627n,
};

describe('renderEvent: events.Message as json.Encoder writes it', () => {
  it('API 1.51: legacy status and id first, from left out, attributes sorted, HTML escaped, newline', () => {
    assert.equal(
      renderEvent(tag, '1.51'),
      `{"status":"tag","id":"${ID}","Type":"image","Action":"tag","Actor":{"ID":"${ID}","Attributes":` +
        `{"aaa":"first","com.example":"\\u003cb\\u003e\\u0026","name":"a:1"}},"scope":"local","time":1795736139,"timeNano":1795736139063919627}\n`,
    );
    assert.ok(renderEvent(tag, '1.24').startsWith('{"status":"tag","id":'));
  });

  it('API 1.52 (Engine 29) drops the legacy fields', () => {
    assert.ok(renderEvent(tag, '1.52').startsWith('{"Type":"image","Action":"tag",'));
  });

  it('empty attributes are an empty object', () => {
    const bare: EngineEvent = { ...tag, actor: { id: ID, attributes: {} } };
    assert.ok(renderEvent(bare, '1.51').includes('"Attributes":{}'));
  });

  it('image create events only from API 1.46', () => {
    const create: EngineEvent = { ...tag, action: 'create' };
    assert.equal(sentAtVersion(create, '1.45'), false);
    assert.equal(sentAtVersion(create, '1.46'), true);
    assert.equal(sentAtVersion(tag, '1.24'), true);
  });
});

describe('eventStreamFormat: the stream type Accept asks for, from API 1.52', () => {
  const JSONL = 'application/jsonl';
  it('up to 1.51 always application/json (Docker 28.5), whatever Accept says', () => {
    assert.deepEqual(eventStreamFormat('1.51', undefined), { contentType: 'application/json', recordPrefix: '' });
    assert.equal(eventStreamFormat('1.51', 'application/json-seq').contentType, 'application/json');
  });
  it('1.52: application/jsonl by default; x-ndjson and json-seq (records after 0x1E) on request', () => {
    assert.deepEqual(eventStreamFormat('1.52', undefined), { contentType: JSONL, recordPrefix: '' });
    assert.deepEqual(eventStreamFormat('1.52', 'application/x-ndjson'), { contentType: 'application/x-ndjson', recordPrefix: '' });
    assert.deepEqual(eventStreamFormat('1.55', 'application/json-seq'), { contentType: 'application/json-seq', recordPrefix: '\x1e' });
  });
  it('1.52: the highest q wins, wildcards and unknown types fall back to the default', () => {
    // What Docker 29's client sends.
    assert.equal(eventStreamFormat('1.52', 'application/jsonl, application/x-ndjson;q=0.9, application/json-seq;q=0.5').contentType, JSONL);
    assert.equal(eventStreamFormat('1.52', 'application/jsonl;q=0.2, application/json-seq;q=0.5').contentType, 'application/json-seq');
    assert.equal(eventStreamFormat('1.52', '*/*').contentType, JSONL);
    assert.equal(eventStreamFormat('1.52', 'application/json').contentType, JSONL);
    assert.equal(eventStreamFormat('1.52', 'application/json-seq;q=0').contentType, JSONL);
  });
});
