import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAuthHeader } from './auth-challenge.js';

test('parses a bearer challenge with quoted parameters', () => {
  const [c] = parseAuthHeader([
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
  ]);
  assert.deepEqual(c?.scheme, 'bearer');
  assert.deepEqual({ ...c?.parameters }, {
    realm: 'https://auth.docker.io/token',
    service: 'registry.docker.io',
    scope: 'repository:library/alpine:pull',
  });
});

test('schemes and parameter names are case-insensitive; values keep their case', () => {
  const [c] = parseAuthHeader(['BASIC Realm="Registry Realm"']);
  assert.equal(c?.scheme, 'basic');
  assert.equal(c?.parameters.realm, 'Registry Realm');
});

test('bearer is preferred over basic, unknown schemes are dropped', () => {
  const cs = parseAuthHeader(['Basic realm="x"', 'Negotiate abc', 'Bearer realm="https://t/token"']);
  assert.deepEqual(cs.map((c) => c.scheme), ['bearer', 'basic']);
});

test('escaped quotes, unquoted tokens, spaces around commas', () => {
  const [c] = parseAuthHeader(['Bearer realm="a\\"b" , service=svc,error="insufficient_scope"']);
  assert.deepEqual({ ...c?.parameters }, { realm: 'a"b', service: 'svc', error: 'insufficient_scope' });
});

test('an unterminated quoted value yields an empty value and stops', () => {
  const [c] = parseAuthHeader(['Bearer realm="https://t/token", service="oops']);
  assert.deepEqual({ ...c?.parameters }, { realm: 'https://t/token', service: '' });
});
