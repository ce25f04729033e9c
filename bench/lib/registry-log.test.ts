import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blobGets, goDurationMs, maxConcurrent } from './registry-log.js';

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

  it('counts the most downloads at once', () => {
    assert.equal(maxConcurrent([]), 0);
    assert.equal(maxConcurrent([{ start: 0, end: 10 }, { start: 10, end: 20 }]), 1);
    assert.equal(maxConcurrent([{ start: 0, end: 10 }, { start: 2, end: 12 }, { start: 5, end: 6 }, { start: 11, end: 30 }]), 3);
  });
});
