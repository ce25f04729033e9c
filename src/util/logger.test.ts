import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './logger.js';

function capture(format: 'text' | 'json', level: 'debug' | 'info' = 'info') {
  const lines: string[] = [];
  return { lines, log: createLogger(level, (l) => lines.push(l), format) };
}

test('text: logrus TextFormatter, fields sorted after msg, quoted only when needed', () => {
  const { lines, log } = capture('text');
  log.info('Image loaded', { images: ['busybox:latest', 'a b'], bytes: 42, duration: '1.5ms', skipped: undefined });
  log.debug('not at info');
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z" level=info msg="Image loaded" bytes=42 duration=1.5ms images="\[busybox:latest a b\]"\n$/,
  );
});

test('json: one object a line, keys sorted as Go marshals a map, RFC3339Nano (fixed) time', () => {
  const { lines, log } = capture('json');
  log.warn('Registry refused the push', { ref: 'r/x:<v>', error: 'no', msg: 'clash' });
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.ok(line.endsWith('}\n'));
  assert.deepEqual(Object.keys(JSON.parse(line)), ['error', 'fields.msg', 'level', 'msg', 'ref', 'time']);
  const parsed = JSON.parse(line) as Record<string, string>;
  assert.equal(parsed.level, 'warning', "logrus' name");
  assert.equal(parsed.msg, 'Registry refused the push');
  assert.equal(parsed['fields.msg'], 'clash');
  assert.match(parsed.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  // Go's encoder escapes HTML characters.
  assert.ok(line.includes('"ref":"r/x:\\u003cv\\u003e"'), line);
});
