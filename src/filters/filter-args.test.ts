import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../errors.js';
import { addFilter, filterBool, filterValues, parseFilters, validateFilters } from './filter-args.js';

const entries = (json: string): Array<[string, Array<[string, boolean]>]> =>
  [...parseFilters(json)].map(([k, v]) => [k, [...v]]);

test('parseFilters reads both of Docker’s forms, "" and null as none', () => {
  assert.deepEqual(entries('{"dangling":{"true":true},"label":{"a=b":true,"c":false}}'), [
    ['dangling', [['true', true]]],
    ['label', [['a=b', true], ['c', false]]],
  ]);
  assert.deepEqual(entries('{"reference":["busybox","alpine:*"],"dangling":null}'), [
    ['reference', [['busybox', true], ['alpine:*', true]]],
    ['dangling', []],
  ]);
  assert.deepEqual(entries('{"reference":null}'), [['reference', []]]);
  assert.deepEqual(entries(''), []);
  assert.deepEqual(entries('null'), []);
  assert.deepEqual(entries('{}'), []);
});

test('parseFilters refuses anything else with Docker’s bare "invalid filter"', () => {
  for (const bad of ['{', '[]', '"x"', '1', '{"a":"b"}', '{"a":{"b":"c"}}', '{"a":[1]}', '{"a":["x"],"b":{"y":true}}', '{"a":{"b":1}}']) {
    assert.throws(() => parseFilters(bad), (err: unknown) => err instanceof InvalidArgumentError && err.message === 'invalid filter', bad);
  }
});

test('validateFilters names the first filter it does not know', () => {
  const args = parseFilters('{"dangling":["true"],"foo":["bar"]}');
  assert.throws(() => validateFilters(args, new Set(['dangling'])), { message: "invalid filter 'foo'" });
  validateFilters(args, new Set(['dangling', 'foo']));
});

test('filterBool: true/1 or false/0, else Docker’s messages', () => {
  assert.equal(filterBool(parseFilters('{"dangling":["true"]}'), 'dangling', false), true);
  assert.equal(filterBool(parseFilters('{"dangling":["1"]}'), 'dangling', false), true);
  assert.equal(filterBool(parseFilters('{"dangling":["false"]}'), 'dangling', true), false);
  assert.equal(filterBool(parseFilters('{"dangling":{"0":true}}'), 'dangling', true), false);
  assert.equal(filterBool(parseFilters('{}'), 'dangling', true), true);
  assert.throws(() => filterBool(parseFilters('{"dangling":["maybe"]}'), 'dangling', false), { message: "invalid filter 'dangling=[maybe]'" });
  assert.throws(() => filterBool(parseFilters('{"dangling":["true","false"]}'), 'dangling', false), {
    message: "invalid filter 'dangling=[true false]'",
  });
  // A value sent as false counts as not sent, though it is listed.
  assert.throws(() => filterBool(parseFilters('{"dangling":{"true":false}}'), 'dangling', false), { message: "invalid filter 'dangling=[true]'" });
  assert.throws(() => filterBool(parseFilters('{"dangling":[]}'), 'dangling', false), { message: "invalid filter 'dangling'" });
});

test('addFilter and filterValues', () => {
  const args = parseFilters('');
  addFilter(args, 'reference', 'a');
  addFilter(args, 'reference', 'b');
  addFilter(args, 'reference', 'a');
  assert.deepEqual(filterValues(args, 'reference'), ['a', 'b']);
  assert.deepEqual(filterValues(args, 'label'), []);
});
