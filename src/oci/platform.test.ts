import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyOfMatcher, configPlatform, formatPlatform, formatPlatformAll, hostPreferenceMatcher, normalizePlatform, onlyMatcher, strictMatcher } from './platform.js';

test('normalizes architecture aliases and arm variants', () => {
  assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: 'v8' }), {
    os: 'linux',
    architecture: 'arm64',
  });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), {
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
  });
});

test('normalizes as containerd does: empty OS, macos, i386 variants, arm64 v8.0 and v9, case', () => {
  assert.deepEqual(normalizePlatform({ os: '', architecture: 'AMD64', variant: 'V1' }), { architecture: 'amd64', os: 'linux' });
  assert.deepEqual(normalizePlatform({ os: 'MacOS', architecture: 'arm64', variant: 'v8.0' }), { architecture: 'arm64', os: 'darwin' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: '9' }), {
    architecture: 'arm64',
    os: 'linux',
    variant: 'v9',
  });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'i386', variant: 'v2' }), { architecture: '386', os: 'linux' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'armel' }), { architecture: 'arm', os: 'linux', variant: 'v6' });
});

test("a config's platform is read as written, optional fields only when set", () => {
  assert.deepEqual(configPlatform({ architecture: 'x86_64', os: 'Linux', 'os.features': [], variant: '' }), {
    architecture: 'x86_64',
    os: 'Linux',
  });
  assert.deepEqual(configPlatform({ architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763', 'os.features': ['win32k', 3] }), {
    architecture: 'amd64',
    os: 'windows',
    'os.version': '10.0.17763',
    'os.features': ['win32k'],
  });
});

test('a strict matcher takes arm64 and arm64/v8 as the same platform, and nothing else', () => {
  const m = strictMatcher({ os: 'linux', architecture: 'arm64' });
  assert.equal(m.match({ os: 'linux', architecture: 'arm64', variant: 'v8' }), true);
  assert.equal(m.match({ os: 'linux', architecture: 'amd64' }), false);
  assert.equal(m.match({ os: 'windows', architecture: 'arm64' }), false);
});

test('the host preference puts amd64 before 386 before anything else on an amd64 host', () => {
  const m = hostPreferenceMatcher({ os: 'linux', architecture: 'amd64' });
  const amd64 = { os: 'linux', architecture: 'amd64' };
  const i386 = { os: 'linux', architecture: '386' };
  const arm64 = { os: 'linux', architecture: 'arm64' };
  assert.equal(m.less(amd64, i386), true);
  assert.equal(m.less(i386, arm64), true);
  assert.equal(m.less(arm64, amd64), false);
  assert.equal(m.match(arm64), true);
});

test('formats platforms as os/arch/variant', () => {
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
});

test('platforms.Only: the platform, then what it can also run; nothing else', () => {
  const arm64 = onlyMatcher({ os: 'linux', architecture: 'arm64' });
  assert.equal(arm64.match({ os: 'linux', architecture: 'arm64', variant: 'v8' }), true);
  assert.equal(arm64.match({ os: 'linux', architecture: 'arm', variant: 'v7' }), true);
  assert.equal(arm64.match({ os: 'linux', architecture: 'amd64' }), false);
  assert.equal(arm64.less({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm', variant: 'v8' }), true);
  const amd64v3 = onlyMatcher({ os: 'linux', architecture: 'amd64', variant: 'v3' });
  assert.equal(amd64v3.match({ os: 'linux', architecture: 'amd64' }), true);
  assert.equal(amd64v3.match({ os: 'linux', architecture: '386' }), true);
  assert.equal(amd64v3.match({ os: 'linux', architecture: 'amd64', variant: 'v4' }), false);
  const arm = onlyMatcher({ os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(arm.match({ os: 'linux', architecture: 'arm', variant: 'v5' }), true);
  assert.equal(arm.match({ os: 'linux', architecture: 'arm', variant: 'v7' }), false);
  assert.equal(formatPlatformAll({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' }), 'windows(10.0.17763)/amd64');
});

test('onlyMatcher: an absurd variant neither hangs nor fills memory', () => {
  const started = Date.now();
  for (const architecture of ['amd64', 'arm', 'arm64']) {
    const m = onlyMatcher({ os: 'linux', architecture, variant: 'v999999999' });
    assert.equal(m.match({ os: 'linux', architecture, variant: 'v999999999' }), true);
  }
  assert.equal(onlyMatcher({ os: 'linux', architecture: 'amd64', variant: 'v999999999' }).match({ os: 'linux', architecture: 'amd64', variant: 'v3' }), true);
  assert.ok(Date.now() - started < 1000);
});


test('anyOfMatcher: matches any of the platforms exactly, everything when none; the host first', () => {
    const m = anyOfMatcher([{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 's390x' }], hostPreferenceMatcher({ os: 'linux', architecture: 'amd64' }));
    assert.ok(m.match({ os: 'linux', architecture: 'arm64', variant: 'v8' }));
    assert.ok(m.match({ os: 'linux', architecture: 's390x' }));
    assert.ok(!m.match({ os: 'linux', architecture: 'amd64' }));
    assert.ok(anyOfMatcher([]).match({ os: 'windows', architecture: 'amd64' }));
});
