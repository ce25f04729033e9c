import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseResponse } from './http-load.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('bench load client framing', () => {
  it('Content-Length bodies, complete or not, and what follows them', () => {
    const res = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n{..}';
    assert.deepEqual(parseResponse(b(res)), { end: res.length, status: 200 });
    assert.equal(parseResponse(b(res.slice(0, -1))), undefined);
    assert.deepEqual(parseResponse(b(res + 'HTTP/1.1 404')), { end: res.length, status: 200 });
    assert.equal(parseResponse(b('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n')), undefined);
  });

  it('chunked bodies end at the zero chunk', () => {
    const res = 'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n';
    assert.deepEqual(parseResponse(b(res)), { end: res.length, status: 404 });
    for (const cut of [1, 3, 8, 20]) assert.equal(parseResponse(b(res.slice(0, -cut))), undefined);
  });

  it('no body framing: the response ends with its head', () => {
    const res = 'HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n';
    assert.deepEqual(parseResponse(b(res)), { end: res.length, status: 204 });
  });
});
