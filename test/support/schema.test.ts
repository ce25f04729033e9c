import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { tempDir } from './paths.js';
import { specMissing } from './schema.js';

// A clean clone has no shared/reference beside it: schema checks skip, saying which file they lack.
describe('Docker API spec location', () => {
  const saved = { dir: process.env.LADING_TEST_REFERENCE_DIR, require: process.env.LADING_TEST_REQUIRE_SPEC };
  afterEach(() => {
    for (const [key, value] of [['LADING_TEST_REFERENCE_DIR', saved.dir], ['LADING_TEST_REQUIRE_SPEC', saved.require]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('absent: a skip reason naming the missing file, no error', () => {
    const dir = tempDir('no-spec');
    process.env.LADING_TEST_REFERENCE_DIR = dir;
    delete process.env.LADING_TEST_REQUIRE_SPEC;
    const reason = specMissing('docker-engine-api-v1.49.yaml');
    assert.match(reason ?? '', /is absent/);
    assert.ok(reason?.includes(path.join(dir, 'docker-engine-api-v1.49.yaml')), reason);
  });

  it('absent with LADING_TEST_REQUIRE_SPEC=1: an error', () => {
    process.env.LADING_TEST_REFERENCE_DIR = tempDir('no-spec');
    process.env.LADING_TEST_REQUIRE_SPEC = '1';
    assert.throws(() => specMissing('docker-engine-api-v1.49.yaml'), /LADING_TEST_REQUIRE_SPEC=1 but Docker's API spec .* is absent/);
  });
});
