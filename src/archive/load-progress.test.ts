import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonMessage } from '../util/progress-message.js';
import { LoadProgress } from './load-progress.js';

describe('LoadProgress', () => {
  it("writes Docker 20.10's Loading layer lines: at the start, on a tick when moved, full at the end", () => {
    const lines: JsonMessage[] = [];
    // No tick of its own during the test: `update` stands for one.
    const progress = new LoadProgress((m) => lines.push(m), 60_000);
    const hex = 'ab'.repeat(32);
    progress.layerStarted(`blobs/sha256/${hex}`, 4_000_000, 512);
    progress.layerStarted('0123456789abcdef0123/layer.tar', 1000, 1000);
    progress.update();
    progress.layerRead(`blobs/sha256/${hex}`, 1_999_488);
    progress.update();
    progress.update();
    progress.layerEnded(`blobs/sha256/${hex}`);
    progress.stop();
    assert.deepEqual(
      lines.map((l) => [l.id, l.progressDetail?.current]),
      [
        ['abababababab', 512],
        ['0123456789ab', 1000],
        ['abababababab', 2_000_000],
        ['abababababab', 4_000_000],
      ],
    );
    assert.deepEqual(lines[2], {
      status: 'Loading layer',
      progressDetail: { current: 2_000_000, total: 4_000_000 },
      progress: `[${'='.repeat(25)}>${' '.repeat(25)}]      2MB/4MB`,
      id: 'abababababab',
    });
  });
});
