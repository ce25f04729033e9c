import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, quantile } from './stats.js';

describe('bench stats', () => {
  it('median of odd and even counts, NaN for none', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('nearest-rank quantiles', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(quantile(hundred, 0.99), 99);
    assert.equal(quantile(hundred, 0.5), 50);
    assert.equal(quantile(hundred, 1), 100);
    assert.equal(quantile([7], 0.99), 7);
  });
});
