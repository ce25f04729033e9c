import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blobGets, blobUploads, goDurationMs, maxConcurrent } from './registry-log.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const line = (time: string, method: string, uri: string, duration: string, status = 200): string =>
  `time="${time}" level=info msg="response completed" go.version=go1.19.8 http.request.host="127.0.0.1:5599" ` +
  `http.request.method=${method} http.request.remoteaddr="127.0.0.1:37944" http.request.uri=${uri.includes(':') ? `"${uri}"` : uri} ` +
  `http.request.useragent="lading containerd-client/2.1.4" http.response.duration=${duration} http.response.status=${status} http.response.written=1295`;

describe('registry log', () => {
  it('reads Go durations', () => {
    assert.equal(goDurationMs('2.5s'), 2_500);
    assert.equal(goDurationMs('9.524214ms'), 9.524214);
    assert.equal(goDurationMs('1m2s'), 62_000);
    assert.equal(goDurationMs('800µs'), 0.8);
    assert.ok(Number.isNaN(goDurationMs('2 s')));
  });

  it('takes the successful blob GETs, start from end and duration', () => {
    const text = [
      line('2026-11-27T02:15:43.5Z', 'GET', `/v2/bench/big/blobs/${DIGEST}`, '500ms'),
      line('2026-11-27T02:15:43.5Z', 'HEAD', `/v2/bench/big/blobs/${DIGEST}`, '1ms'),
      line('2026-11-27T02:15:43.5Z', 'GET', '/v2/bench/big/manifests/v1', '1ms'),
      line('2026-11-27T02:15:43.5Z', 'GET', `/v2/bench/big/blobs/${DIGEST}`, '1ms', 404),
      `127.0.0.1 - - [27/Nov/2026:02:15:11 +0000] "GET /v2/bench/big/blobs/${DIGEST} HTTP/1.1" 200 1295 "" "skopeo/1.9.3"`,
    ].join('\n');
    const end = Date.parse('2026-11-27T02:15:43.5Z');
    assert.deepEqual(blobGets(text), [{ digest: DIGEST, start: end - 500, end, bytes: 1295 }]);
  });

  it('takes the successful PATCHes and PUTs of upload sessions, not their POSTs or other blobs', () => {
    const session = '/v2/bench/push1/blobs/uploads/0f2c8e51-5d1a-4c3e-9d6f-2b7c1a9e0d44';
    const text = [
      line('2026-11-27T05:00:00Z', 'POST', '/v2/bench/push1/blobs/uploads/', '2ms', 202),
      line('2026-11-27T05:00:01Z', 'PATCH', `${session}?_state=abc`, '800ms', 202),
      line('2026-11-27T05:00:01.5Z', 'PUT', `${session}?_state=abc&digest=${encodeURIComponent(DIGEST)}`, '1.5s', 201),
      line('2026-11-27T05:00:02Z', 'PUT', `${session}?_state=abc&digest=${DIGEST}`, '1ms', 400),
      line('2026-11-27T05:00:02Z', 'PUT', '/v2/bench/push1/manifests/v1', '3ms', 201),
      line('2026-11-27T05:00:02Z', 'HEAD', `/v2/bench/push1/blobs/${DIGEST}`, '1ms', 404),
    ].join('\n');
    const at = (t: string): number => Date.parse(t);
    assert.deepEqual(blobUploads(text), [
      { method: 'PATCH', start: at('2026-11-27T05:00:01Z') - 800, end: at('2026-11-27T05:00:01Z') },
      { method: 'PUT', start: at('2026-11-27T05:00:01.5Z') - 1_500, end: at('2026-11-27T05:00:01.5Z') },
    ]);
    assert.equal(maxConcurrent(blobUploads(text)), 2);
  });

  it('counts the most downloads at once', () => {
    assert.equal(maxConcurrent([]), 0);
    assert.equal(maxConcurrent([{ start: 0, end: 10 }, { start: 10, end: 20 }]), 1);
    assert.equal(maxConcurrent([{ start: 0, end: 10 }, { start: 2, end: 12 }, { start: 5, end: 6 }, { start: 11, end: 30 }]), 3);
  });
});
