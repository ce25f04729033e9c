import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, requestVersion } from './api-version.js';

test('versions compare numerically by component', () => {
  assert.equal(compareVersions('1.9', '1.24'), -1);
  assert.equal(compareVersions('1.44', '1.44'), 0);
  assert.equal(compareVersions('1.51', '1.5'), 1);
});

test('a request without a version runs as the maximum; out-of-range ones are refused', () => {
  assert.equal(requestVersion(undefined), '1.55');
  assert.equal(requestVersion('1.41'), '1.41');
  assert.throws(() => requestVersion('1.12'), {
    message:
      'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
  });
  assert.throws(() => requestVersion('1.99'), {
    message: 'client version 1.99 is too new. Maximum supported API version is 1.55',
  });
});
