import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolValue, decodePlatform } from './query.js';

test('boolValue follows Docker: empty, 0, no, false, none are false in any case', () => {
  for (const v of ['', '0', 'no', 'FALSE', ' none ', null]) assert.equal(boolValue(v), false, String(v));
  for (const v of ['1', 'true', 'yes', 'on', 'x']) assert.equal(boolValue(v), true, v);
});

test('decodePlatform reads an OCI platform', () => {
  assert.deepEqual(decodePlatform('{"os":"linux","architecture":"arm64","variant":"v8"}'), {
    os: 'linux',
    architecture: 'arm64',
    variant: 'v8',
  });
});

test('decodePlatform refuses what Docker refuses, with its messages', () => {
  const cases: [string, string][] = [
    ['{"os":"linux"}', 'both OS and Architecture must be provided'],
    ['{"architecture":"amd64"}', 'both OS and Architecture must be provided'],
    ['{}', 'both OS and Architecture must be provided'],
    ['{"variant":"v8"}', 'optional platform fields provided, but OS and Architecture are missing'],
    ['nope', "failed to parse platform: invalid character 'o' in literal null (expecting 'u')"],
    ['{"os":', 'failed to parse platform: unexpected end of JSON input'],
    ['"linux"', 'failed to parse platform: json: cannot unmarshal string into Go value of type v1.Platform'],
    ['{"os":1}', 'failed to parse platform: json: cannot unmarshal number into Go struct field Platform.os of type string'],
  ];
  for (const [input, message] of cases) assert.throws(() => decodePlatform(input), { message }, input);
});
