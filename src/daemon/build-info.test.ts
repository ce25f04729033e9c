import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readBuildInfo } from './build-info.js';

test('build info: what the build recorded, nothing from a missing or foreign file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-build-info-'));
  const file = path.join(dir, 'build-info.json');
  assert.deepEqual(readBuildInfo(file), {});
  writeFileSync(file, '{"gitCommit":"abc1234","buildTime":"2026-01-02T03:04:05.000Z"}\n');
  assert.deepEqual(readBuildInfo(file), { gitCommit: 'abc1234', buildTime: '2026-01-02T03:04:05.000Z' });
  writeFileSync(file, '{"buildTime":"2026-01-02T03:04:05.000Z","gitCommit":7}\n');
  assert.deepEqual(readBuildInfo(file), { buildTime: '2026-01-02T03:04:05.000Z' });
  writeFileSync(file, 'not json');
  assert.deepEqual(readBuildInfo(file), {});
});
