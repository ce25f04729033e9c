import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolValue, decodePlatform, platformList } from './query.js';

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

test('platformList: none before 1.48, one at 1.48-1.51 (two a 400, Docker 28.5), any number from 1.52', () => {
  const two = new URLSearchParams([
    ['platform', '{"os":"linux","architecture":"amd64"}'],
    ['platform', '{"os":"linux","architecture":"arm64","variant":"v8"}'],
  ]);
  assert.deepEqual(platformList(two, '1.47'), []);
  assert.throws(() => platformList(two, '1.51'), { message: 'multiple platform parameters not supported' });
  assert.deepEqual(platformList(new URLSearchParams([['platform', '{"os":"linux","architecture":"amd64"}']]), '1.48'), [
    { os: 'linux', architecture: 'amd64' },
  ]);
  assert.deepEqual(platformList(two, '1.52').map((p) => p.architecture), ['amd64', 'arm64']);
  assert.throws(() => platformList(new URLSearchParams([['platform', 'x']]), '1.52'), /failed to parse platform/);
});
