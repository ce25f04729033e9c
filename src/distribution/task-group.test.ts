import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskGroup } from './task-group.js';

describe('TaskGroup', () => {
  it('the first failure stops the others and is the error reported, whatever they fail with', async () => {
    const group = new TaskGroup();
    const first = new Error('blob truncated');
    const stopped = new Promise<void>((_, reject) =>
      group.signal.addEventListener('abort', () => reject(new Error('token fetch: aborted'))),
    );
    await assert.rejects(group.all([stopped, Promise.reject(first)]), (err) => err === first);
    assert.equal(group.signal.reason, first);
  });

  it('an outer abort stops the group; then the first failure is reported', async () => {
    const outer = new AbortController();
    const group = new TaskGroup(outer.signal);
    const gone = new Error('client disconnected');
    const task = new Promise<void>((_, reject) => group.signal.addEventListener('abort', () => reject(group.signal.reason)));
    outer.abort(gone);
    await assert.rejects(group.all([task]), (err) => err === gone);
  });

  it('all settled without failure: resolves, nothing aborted', async () => {
    const group = new TaskGroup();
    await group.all([Promise.resolve(1), Promise.resolve()]);
    assert.equal(group.signal.aborted, false);
  });
});
