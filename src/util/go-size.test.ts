import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatG, humanSize, parseByteSize } from './go-size.js';

test('parseByteSize: sizes as go-units RAMInBytes reads them (binary units)', () => {
  assert.equal(parseByteSize('1024'), 1024);
  assert.equal(parseByteSize('64GiB'), 64 * 1024 ** 3);
  assert.equal(parseByteSize('64g'), 64 * 1024 ** 3);
  assert.equal(parseByteSize('1.5 MB'), 1.5 * 1024 ** 2);
  assert.throws(() => parseByteSize('-1'), /invalid size/);
});

test('HumanSize: decimal units, 4 significant digits, trailing zeros dropped', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1234), '1.234kB');
  assert.equal(humanSize(3_400_000), '3.4MB');
  assert.equal(humanSize(12_345_678), '12.35MB');
  assert.equal(humanSize(999_950), '1000kB');
  assert.equal(humanSize(2_000_000_000), '2GB');
});

test('%g rounds exact ties to even, as Go does', () => {
  assert.equal(formatG(1.0625, 4), '1.062');
  assert.equal(formatG(1.0645, 4), '1.065');
  assert.equal(humanSize(1_062_500), '1.062MB');
});
