import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonSyntaxError } from './go-json-syntax.js';

test('valid JSON has no syntax error', () => {
  for (const ok of ['{}', ' {"a":[1,-2.5e3,true,null,"x\\u00e9"]} ', '"s"', '0']) assert.equal(goJsonSyntaxError(ok), undefined, ok);
});

test('errors are worded as Go words them', () => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    ['{"os":', 'unexpected end of JSON input'],
    ['nope', "invalid character 'o' in literal null (expecting 'u')"],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{os:1}', "invalid character 'o' looking for beginning of object key string"],
    ['{"os" 1}', "invalid character '1' after object key"],
    ['{"os":1 "a"}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{} x', "invalid character 'x' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['"\\q"', "invalid character 'q' in string escape code"],
  ];
  for (const [input, message] of cases) assert.equal(goJsonSyntaxError(input), message, input);
});
