import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { InspectResponses } from './inspect-cache.js';

/** Records what a route would have sent. */
function response(): ServerResponse & { sent: { status: number; head: unknown; body: Buffer }[] } {
  const sent: { status: number; head: unknown; body: Buffer }[] = [];
  let status = 0;
  let head: unknown;
  return {
    sent,
    writeHead(s: number, h: unknown) {
      status = s;
      head = h;
      return this;
    },
    end(body: Buffer) {
      sent.push({ status, head, body });
      return this;
    },
  } as unknown as ServerResponse & { sent: { status: number; head: unknown; body: Buffer }[] };
}

const COMMON: [string, string][] = [['Api-Version', '1.51']];

describe('InspectResponses', () => {
  it('a URL sent at the current generation is answered again, head and body', () => {
    const cache = new InspectResponses(COMMON);
    assert.equal(cache.serve('/images/a/json', 1, response()), undefined);
    cache.send('/images/a/json', 1, Buffer.from('{"a":1}'), response());
    const res = response();
    assert.equal(cache.serve('/images/a/json', 1, res), 'inspect');
    assert.deepEqual(res.sent, [
      { status: 200, head: ['Api-Version', '1.51', 'Content-Type', 'application/json', 'Content-Length', '7'], body: Buffer.from('{"a":1}') },
    ]);
    assert.equal(cache.serve('/images/b/json', 1, response()), undefined);
  });

  it('a write drops everything; an answer rendered across a write is sent but not kept', () => {
    const cache = new InspectResponses(COMMON);
    cache.serve('/x', 1, response());
    cache.send('/x', 1, Buffer.from('old'), response());
    assert.equal(cache.serve('/x', 2, response()), undefined);
    assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
    const res = response();
    cache.send('/y', 1, Buffer.from('stale'), res);
    assert.equal(res.sent[0]?.body.toString(), 'stale');
    assert.equal(cache.serve('/y', 2, response()), undefined);
  });

  it('the oldest answers make room, by count and by bytes; one too large is not kept', () => {
    const cache = new InspectResponses(COMMON, 3, 10);
    cache.serve('/', 1, response());
    for (const url of ['/1', '/2', '/3', '/4']) cache.send(url, 1, Buffer.from('ab'), response());
    assert.equal(cache.serve('/1', 1, response()), undefined);
    assert.deepEqual(cache.size, { entries: 3, bytes: 6 });
    cache.send('/5', 1, Buffer.from('abcdefg'), response());
    assert.deepEqual(cache.size, { entries: 2, bytes: 9 });
    assert.equal(cache.serve('/4', 1, response()), 'inspect');
    assert.equal(cache.serve('/5', 1, response()), 'inspect');
    cache.send('/6', 1, Buffer.from('abcdefghijk'), response());
    assert.deepEqual(cache.size, { entries: 2, bytes: 9 });
    cache.send('/4', 1, Buffer.from('a'), response());
    assert.deepEqual(cache.size, { entries: 2, bytes: 8 });
  });

  it('renders a URL once for the requests that ask while it renders, again for a new generation or after it settled', async () => {
    const cache = new InspectResponses(COMMON);
    let renders = 0;
    let finish: (body: Buffer) => void = () => undefined;
    const render = (): Promise<Buffer> => {
      renders++;
      return new Promise<Buffer>((resolve) => (finish = resolve));
    };
    const first = cache.renderOnce('/images/json', 1, render);
    const second = cache.renderOnce('/images/json', 1, render);
    const other = cache.renderOnce('/images/json?all=1', 1, async () => Buffer.from('all'));
    const newer = cache.renderOnce('/images/json', 2, async () => Buffer.from('newer'));
    assert.equal(renders, 1);
    finish(Buffer.from('list'));
    assert.deepEqual(await Promise.all([first, second]), [Buffer.from('list'), Buffer.from('list')]);
    assert.equal((await other).toString(), 'all');
    assert.equal((await newer).toString(), 'newer');
    const failing = cache.renderOnce('/images/json', 3, async () => {
      throw new Error('gone');
    });
    await assert.rejects(failing, /gone/);
    cache.renderOnce('/images/json', 1, render);
    assert.equal(renders, 2, 'a settled render is not reused');
  });
});
