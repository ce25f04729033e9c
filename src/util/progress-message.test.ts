import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goMarshal } from './go-json.js';
import { progressMessage, progressString, shortId, statusMessage } from './progress-message.js';

test('the progress bar of a download, as dockerd draws it', () => {
  assert.equal(
    progressString({ current: 1_048_576, total: 3_145_728 }),
    '[================>                                  ]  1.049MB/3.146MB',
  );
  assert.equal(progressString({ current: 10, total: 10 }), `[${'='.repeat(50)}>] ${'10B'.padStart(8)}/10B`);
  assert.equal(progressString({ current: 20, total: 10 }), `[${'='.repeat(50)}>] ${'20B'.padStart(8)}`);
  assert.equal(progressString({ current: 1, units: 's' }), '1 s');
  assert.equal(progressString({ hidecounts: true }), '');
});

test('messages have JSONMessage\'s keys and order', () => {
  assert.equal(goMarshal(statusMessage('latest', 'Pulling from library/alpine')), '{"status":"Pulling from library/alpine","id":"latest"}');
  assert.equal(goMarshal(statusMessage('', 'Digest: sha256:ab')), '{"status":"Digest: sha256:ab"}');
  assert.equal(
    goMarshal(progressMessage({ id: 'f18232174bc9', action: 'Pulling fs layer' })),
    '{"status":"Pulling fs layer","progressDetail":{},"id":"f18232174bc9"}',
  );
  assert.equal(
    goMarshal(progressMessage({ id: 'f18232174bc9', action: 'Download complete', hideCounts: true })),
    '{"status":"Download complete","progressDetail":{"hidecounts":true},"id":"f18232174bc9"}',
  );
  assert.equal(
    goMarshal(progressMessage({ id: 'f18232174bc9', action: 'Downloading', current: 500, total: 1000 })),
    '{"status":"Downloading","progressDetail":{"current":500,"total":1000},"progress":"[=========================\\u003e                         ]     500B/1kB","id":"f18232174bc9"}',
  );
  assert.equal(shortId('sha256:f18232174bc91741fdf3da96d85011092101a032a93a388b79e99e69c2d5c870'), 'f18232174bc9');
});
