/** Assertions on what a CLI run printed, shared by the end-to-end tests. */
import assert from 'node:assert/strict';
import type { RunResult } from './exec.js';

/** Asserts exit status 0; on failure the message carries the output and the daemon's log. */
export function ok(res: RunResult, what: string, d?: { logs(): string }): RunResult {
  assert.equal(res.code, 0, `${what} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}\n${d?.logs() ?? ''}`);
  return res;
}

/** The non-empty lines of `text`. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** The 12 hex digits the CLI shows of a digest. */
export const short = (digest: string): string => digest.slice('sha256:'.length, 'sha256:'.length + 12);

/** The JSON messages of a raw progress stream answer (pull, push), each ended by `\r\n`. */
export function streamMessages(text: string): Array<Record<string, unknown>> {
  assert.ok(text.endsWith('\r\n'), 'every message ends with \\r\\n');
  return text
    .split('\r\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
