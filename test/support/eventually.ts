import assert from 'node:assert/strict';

/**
 * Waits until `check` holds, polling every `everyMs`, and fails naming `what` after `withinMs`: for
 * what another process makes true in its own time (a NOTIFY heard, a database back). The bound is
 * generous; a pass takes milliseconds on an idle machine.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, withinMs = 20_000, everyMs = 50): Promise<void> {
  for (const until = Date.now() + withinMs; !(await check()); ) {
    if (Date.now() > until) assert.fail(`not within ${withinMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
