import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goMarshal, sortedKeys } from './go-json.js';

test('escapes HTML characters and line separators the way Go does', () => {
  assert.equal(goMarshal({ a: '<b>&\u2028\u2029' }), '{"a":"\\u003cb\\u003e\\u0026\\u2028\\u2029"}');
});

test('keeps control characters escaped and insertion order of keys', () => {
  assert.equal(goMarshal({ z: '\n\t\u0001', a: 1 }), '{"z":"\\n\\t\\u0001","a":1}');
});

test('sortedKeys orders map keys bytewise', () => {
  assert.deepEqual(Object.keys(sortedKeys({ b: 1, B: 2, a: 3, '80/tcp': 4 })), ['80/tcp', 'B', 'a', 'b']);
});
