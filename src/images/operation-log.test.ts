import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError, LadingError, NotFoundError } from '../errors.js';
import { invalidAuthorization } from '../registry/registry-errors.js';
import type { LogFields, Logger } from '../util/logger.js';
import { OperationLog, wasLogged } from './operation-log.js';

function memoryLog(): Logger & { lines: Array<{ level: string; msg: string; fields: LogFields }> } {
  const lines: Array<{ level: string; msg: string; fields: LogFields }> = [];
  const at = (level: string) => (msg: string, fields: LogFields = {}) => void lines.push({ level, msg, fields });
  return { lines, debugEnabled: true, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

test('a finished operation: one info line with its fields, what it noted and its duration', async () => {
  const log = memoryLog();
  const result = await new OperationLog(log).run('tag', { source: 'a:1', tag: 'b:1' }, async (note) => {
    note({ digest: 'sha256:abc' });
    return 7;
  });
  assert.equal(result, 7);
  assert.equal(log.lines.length, 1);
  const [line] = log.lines;
  assert.equal(line?.level, 'info');
  assert.equal(line?.msg, 'Image tagged');
  assert.equal(line?.fields.digest, 'sha256:abc');
  assert.match(String(line?.fields.duration), /^\d+(\.\d+)?(ns|µs|ms|s)$/);
});

test("a client's mistake: one info line, no stack; the error passes on", async () => {
  const log = memoryLog();
  const err = new NotFoundError('No such image: x:1');
  await assert.rejects(new OperationLog(log).run('remove', { ref: 'x:1' }, () => Promise.reject(err)), err);
  assert.deepEqual(log.lines.map((l) => [l.level, l.msg, l.fields.error, l.fields.stack]), [['info', 'Remove refused', 'No such image: x:1', undefined]]);
  assert.equal(wasLogged(err), false);
});

test('a registry refusing credentials: a warning, also when wrapped into a 404', async () => {
  const log = memoryLog();
  const refusal = invalidAuthorization('authorization failed: no basic auth credentials');
  const wrapped = new NotFoundError('pull access denied for x', { cause: refusal });
  await assert.rejects(new OperationLog(log).run('pull', { ref: 'x' }, () => Promise.reject(wrapped)));
  await assert.rejects(new OperationLog(log).run('push', { ref: 'x' }, () => Promise.reject(refusal)));
  assert.deepEqual(log.lines.map((l) => [l.level, l.msg]), [
    ['warn', 'Registry refused the pull: authentication failed'],
    ['warn', 'Registry refused the push: authentication failed'],
  ]);
  assert.ok(log.lines.every((l) => l.fields.stack === undefined));
});

test('an internal error: an error line with the stack, remembered so the server does not log it again', async () => {
  const log = memoryLog();
  const bug = new TypeError('x is undefined');
  await assert.rejects(new OperationLog(log).run('load', {}, () => Promise.reject(bug)));
  const internal = new LadingError('internal', 'disk on fire');
  await assert.rejects(new OperationLog(log).run('prune', {}, () => Promise.reject(internal)));
  assert.deepEqual(log.lines.map((l) => [l.level, l.msg]), [['error', 'Load failed'], ['error', 'Prune failed']]);
  assert.match(String(log.lines[0]?.fields.stack), /TypeError: x is undefined\n\s+at /);
  assert.ok(wasLogged(bug) && wasLogged(internal));
  assert.equal(wasLogged(new InvalidArgumentError('x')), false);
});

test('a client that went away (a cut or stalled upload, an aborted pull): one info line, no stack', async () => {
  const log = memoryLog();
  const cut = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
  const stalled = Object.assign(new Error('upload stalled: no data for 2s'), { code: 'ERR_UPLOAD_STALLED' });
  const aborted = new DOMException('client disconnected', 'AbortError');
  await assert.rejects(new OperationLog(log).run('load', {}, () => Promise.reject(cut)));
  await assert.rejects(new OperationLog(log).run('load', {}, () => Promise.reject(stalled)));
  await assert.rejects(new OperationLog(log).run('pull', {}, () => Promise.reject(new LadingError('internal', 'x', { cause: aborted }))));
  assert.deepEqual(log.lines.map((l) => [l.level, l.msg, l.fields.stack]), [
    ['info', 'Load cancelled: the client went away', undefined],
    ['info', 'Load cancelled: the client went away', undefined],
    ['info', 'Pull cancelled: the client went away', undefined],
  ]);
});
