import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryableNetworkError, isRetryableStatus, retryAfterMs } from './retry-policy.js';

const policy = { ...DEFAULT_RETRY_POLICY, random: () => 1 - Number.EPSILON, baseDelayMs: 100, maxDelayMs: 1000 };

test('the delay doubles per attempt, up to the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy)), [100, 200, 400, 800, 1000, 1000]);
  const low = { ...policy, random: () => 0 };
  assert.deepEqual([1, 2, 3].map((a) => backoffDelay(a, low)), [50, 100, 200]);
});

test('Retry-After wins, in seconds or as a date, capped', () => {
  assert.equal(backoffDelay(1, policy, '0'), 0);
  assert.equal(backoffDelay(1, policy, '30'), 1000);
  assert.equal(retryAfterMs('2', 0), 2000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(retryAfterMs('soon'), undefined);
});

test('which answers and failures are retried', () => {
  assert.deepEqual([200, 400, 401, 404, 408, 429, 500, 502, 503, 504].filter(isRetryableStatus), [408, 429, 500, 502, 503, 504]);
  assert.equal(isRetryableNetworkError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
  assert.equal(isRetryableNetworkError(new Error('aborted')), true);
  assert.equal(isRetryableNetworkError(Object.assign(new Error('x'), { name: 'AbortError' })), false);
  assert.equal(isRetryableNetworkError(new Error('digest mismatch')), false);
});

test('the sleep is injectable, so retries run on a fake clock', async () => {
  const slept: number[] = [];
  const fake = { ...policy, sleep: async (ms: number) => void slept.push(ms) };
  for (let attempt = 1; attempt < fake.maxAttempts; attempt++) await fake.sleep(backoffDelay(attempt, fake));
  assert.deepEqual(slept, [100, 200, 400, 800]);
});
