import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError, LadingError } from '../errors.js';
import { parseFilters } from '../filters/filter-args.js';
import { parseNormalizedNamed } from '../reference/reference.js';
import { labelChecks, labelsMatch, referenceMatches, untilTimes } from './image-filters.js';

test('label checks: exists, equals, not equals, label! forms', () => {
  const checks = (...values: string[]) => labelChecks(parseFilters(JSON.stringify({ label: values })));
  const labels = { tier: 'web', 'com.example.empty': '' };
  assert.equal(labelsMatch(checks('tier'), labels), true);
  assert.equal(labelsMatch(checks('tier=web'), labels), true);
  assert.equal(labelsMatch(checks('tier=db'), labels), false);
  assert.equal(labelsMatch(checks('tier!=db'), labels), true);
  assert.equal(labelsMatch(checks('tier!=web'), labels), false);
  assert.equal(labelsMatch(checks('com.example.empty='), labels), true);
  assert.equal(labelsMatch(checks('tier', 'missing'), labels), false);
  assert.equal(labelsMatch(checks('missing!=x'), labels), false, 'a value check needs the label');
  assert.equal(labelsMatch(checks('tier'), null), false);
  const not = (...values: string[]) => labelChecks(parseFilters(JSON.stringify({ 'label!': values })));
  assert.equal(labelsMatch(not('missing'), labels), true);
  assert.equal(labelsMatch(not('tier'), labels), false);
  assert.equal(labelsMatch(not('tier=db'), labels), true);
  assert.equal(labelsMatch(not('tier=web'), labels), false);
  assert.equal(labelsMatch(not('missing'), null), true);
  assert.deepEqual(checks('a!=b'), [{ key: 'a', value: 'b', onlyExists: false, negate: true }]);
});

test('label checks refuse more than 4096 bytes with containerd’s text', () => {
  const key = 'k'.repeat(100);
  assert.throws(() => labelChecks(parseFilters(JSON.stringify({ label: [`${key}=${'v'.repeat(4000)}`] }))), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(
      err.message,
      `label key and value length (4100 bytes) greater than maximum size (4096 bytes), key: ${'k'.repeat(64)}: invalid argument`,
    );
    return true;
  });
});

test('reference patterns match the familiar name or name:tag; a bad pattern fails the image', () => {
  const ref = parseNormalizedNamed('docker.io/library/busybox:1.36');
  assert.equal(referenceMatches(['busybox'], ref), true);
  assert.equal(referenceMatches(['busybox:1.36'], ref), true);
  assert.equal(referenceMatches(['busy*'], ref), true);
  assert.equal(referenceMatches(['*:1.*'], ref), true);
  assert.equal(referenceMatches(['busybox:latest'], ref), false);
  assert.equal(referenceMatches(['docker.io/library/busybox'], ref), false);
  assert.equal(referenceMatches(['alpine', 'busybox'], ref), true);
  assert.equal(referenceMatches(['[', 'busybox'], ref), false);
  const hosted = parseNormalizedNamed('localhost:5000/lab/app:v1');
  assert.equal(referenceMatches(['localhost:5000/lab/*'], hosted), true);
  assert.equal(referenceMatches(['*'], hosted), false);
});

test('until: times and durations; a bad value is Docker’s 500', () => {
  const now = 1_700_000_000n * 1_000_000_000n;
  assert.deepEqual(untilTimes(parseFilters('{"until":["1h"]}'), now, 0), [now - 3_600_000_000_000n]);
  assert.deepEqual(untilTimes(parseFilters('{"until":["2024-01-02T03:04:05Z"]}'), now, 0), [1704164645_000_000_000n]);
  assert.throws(() => untilTimes(parseFilters('{"until":["soon"]}'), now, 0), (err: unknown) => {
    assert.ok(err instanceof LadingError);
    assert.equal(err.kind, 'internal');
    assert.equal(err.message, 'failed to parse value as time or duration: "soon"');
    return true;
  });
});
