import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interleaved, pairedRatio } from './rounds.js';

describe('bench rounds', () => {
  it('rotates which arm goes first, round by round', async () => {
    const order: string[] = [];
    const arm = (name: string) => async () => {
      order.push(name);
      return name;
    };
    const runs = await interleaved(3, { a: arm('a'), b: arm('b'), c: arm('c') }, () => undefined, (_, r) => r);
    assert.deepEqual(order, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    assert.deepEqual(runs, { a: ['a', 'a', 'a'], b: ['b', 'b', 'b'], c: ['c', 'c', 'c'] });
  });

  it('a warm-up round runs every arm once more and is dropped', async () => {
    let calls = 0;
    const runs = await interleaved(2, { a: async () => ++calls, b: async () => ++calls }, () => undefined, String, { warmupRound: true });
    assert.equal(calls, 6);
    // Warm-up: a 1, b 2; round 1 starts with b: 3, a 4; round 2 with a: 5, b 6.
    assert.deepEqual(runs, { a: [4, 5], b: [3, 6] });
  });

  it('paired ratios are taken within each round, then their median', () => {
    // Round 2 ran on a busy machine for both arms: its ratio is still 0.5.
    const a = [5, 1, 6];
    const b = [10, 2, 10];
    assert.equal(pairedRatio(a, b, (x) => x), 0.5);
  });
});
