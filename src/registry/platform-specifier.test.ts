import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlatformSpecifier } from './platform-specifier.js';

const host = { os: 'linux', architecture: 'amd64' };

test('os/arch[/variant] as containerd parses them', () => {
  assert.deepEqual(parsePlatformSpecifier('linux/arm64', host), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatformSpecifier('linux/arm64/v8', host), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatformSpecifier('linux/arm/v6', host), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(parsePlatformSpecifier('linux/arm', host), { os: 'linux', architecture: 'arm' });
  assert.deepEqual(parsePlatformSpecifier('Linux/x86_64', host), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatformSpecifier('linux', host), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatformSpecifier('arm64', host), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatformSpecifier('windows(10.0.17763)/amd64', host), { os: 'windows', 'os.version': '10.0.17763', architecture: 'amd64' });
});

test('errors read as containerd\'s', () => {
  assert.throws(() => parsePlatformSpecifier('linux/*', host), /^InvalidArgumentError: "linux\/\*": wildcards not yet supported: invalid argument$/);
  assert.throws(() => parsePlatformSpecifier('nonsense', host), /"nonsense": unknown operating system or architecture: invalid argument/);
  assert.throws(() => parsePlatformSpecifier('linux/a/b/c', host), /"linux\/a\/b\/c": cannot parse platform specifier: invalid argument/);
  assert.throws(() => parsePlatformSpecifier('linux/a b', host), /"a b" is an invalid component of "linux\/a b"/);
});
