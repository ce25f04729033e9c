import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goRfc3339Nano, nowRfc3339Nano } from './time.js';

test('reformats timestamps as Go RFC3339Nano', () => {
  assert.equal(goRfc3339Nano('2026-01-01T00:00:00Z'), '2026-01-01T00:00:00Z');
  assert.equal(goRfc3339Nano('2025-05-30T16:20:41.123000000Z'), '2025-05-30T16:20:41.123Z');
  assert.equal(goRfc3339Nano('2025-05-30T16:20:41.000Z'), '2025-05-30T16:20:41Z');
  assert.equal(goRfc3339Nano('2025-05-30T18:20:41.5+02:00'), '2025-05-30T18:20:41.5+02:00');
  assert.equal(goRfc3339Nano('2025-05-30T16:20:41+00:00'), '2025-05-30T16:20:41Z');
  assert.equal(goRfc3339Nano('yesterday'), undefined);
  assert.equal(goRfc3339Nano(undefined), undefined);
});

test('now is UTC, nanosecond-precise and increasing', () => {
  const a = nowRfc3339Nano();
  const b = nowRfc3339Nano();
  assert.match(a, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
  assert.notEqual(a, b);
  assert.ok(Math.abs(Date.parse(a) - Date.now()) < 5000);
});
