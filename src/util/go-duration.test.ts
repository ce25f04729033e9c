import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatGoDuration, formatLogDuration, parseDurationMs, parseGoDuration } from './go-duration.js';

const S = 1_000_000_000n;

test('parseGoDuration reads Go durations and refuses what Go refuses', () => {
  assert.equal(parseGoDuration('1h'), 3600n * S);
  assert.equal(parseGoDuration('1h30m'), 5400n * S);
  assert.equal(parseGoDuration('-1.5h'), -5400n * S);
  assert.equal(parseGoDuration('+2m'), 120n * S);
  assert.equal(parseGoDuration('300ms'), 300_000_000n);
  assert.equal(parseGoDuration('2µs'), 2000n);
  assert.equal(parseGoDuration('2μs'), 2000n);
  assert.equal(parseGoDuration('.5s'), S / 2n);
  assert.equal(parseGoDuration('1.s'), S);
  assert.equal(parseGoDuration('0'), 0n);
  assert.equal(parseGoDuration('-0'), 0n);
  for (const bad of ['', '1', '1x', 's', '.s', '1h-', '1.5', '10000000000000h', '-']) {
    assert.equal(parseGoDuration(bad), undefined, bad);
  }
});

test('formatGoDuration writes what Go\'s Duration.String writes', () => {
  const cases: Array<[number, string]> = [[0, '0s'], [500, '500ms'], [2000, '2s'], [1500, '1.5s'], [30_000, '30s'], [90_000, '1m30s'], [3_600_000, '1h0m0s'], [5_400_250, '1h30m0.25s']];
  for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text);
});

test('parseDurationMs: whole seconds or a Go duration, as dockerd reads its flags', () => {
  assert.equal(parseDurationMs('90'), 90_000);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('250ms'), 250);
  // What Go's time.ParseDuration reads, dockerd reads: no digit before the point, a sign, microseconds.
  assert.equal(parseDurationMs('.5s'), 500);
  assert.equal(parseDurationMs('+2m'), 120_000);
  assert.equal(parseDurationMs('1500us'), 2);
  assert.throws(() => parseDurationMs('soon'), /time: invalid duration "soon"/);
  assert.throws(() => parseDurationMs('-5s'), /time: invalid duration "-5s"/);
  assert.throws(() => parseDurationMs('25d'), /time: invalid duration "25d"/);
  assert.throws(() => parseDurationMs('600h'), /is longer than 2147483647 ms/);
});

test("formatLogDuration: Go's Duration.String units for log lines, three decimals", () => {
  assert.equal(formatLogDuration(850n), '850ns');
  assert.equal(formatLogDuration(12_500n), '12.5µs');
  assert.equal(formatLogDuration(3_000_000n), '3ms');
  assert.equal(formatLogDuration(2_345_678_901n), '2.346s');
});
