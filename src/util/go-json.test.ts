import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goMap, goMarshal } from './go-json.js';

test('escapes HTML characters and line separators the way Go does', () => {
  assert.equal(goMarshal({ a: '<b>&\u2028\u2029' }), '{"a":"\\u003cb\\u003e\\u0026\\u2028\\u2029"}');
});

test('keeps struct fields in order and leaves out undefined ones', () => {
  assert.equal(goMarshal({ z: '\n\t\u0001', skip: undefined, a: 1, n: null }), '{"z":"\\n\\t\\u0001","a":1,"n":null}');
});

test('writes maps with keys sorted bytewise, integer-like keys included', () => {
  const labels = goMap({ b: '1', B: '2', '10': 'x', '2': 'y', a: '3' });
  assert.equal(goMarshal(labels), '{"10":"x","2":"y","B":"2","a":"3","b":"1"}');
});

test('sorts keys outside the BMP by code point, as UTF-8 byte order does', () => {
  assert.equal(goMarshal(new Map([['\u{1F600}', 1], ['\uFFFD', 2]])), '{"\uFFFD":2,"\u{1F600}":1}');
});

test('without HTML escaping, as Docker writes error bodies, only line separators are escaped', () => {
  assert.equal(goMarshal({ message: 'a<b>&c\u2028' }, { escapeHTML: false }), '{"message":"a<b>&c\\u2028"}');
});
