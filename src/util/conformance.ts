import { describe, it } from 'node:test';

/** An implementation under test, fresh for one check, and how to dispose of it. */
export interface Harness<T> {
  store: T;
  close(): Promise<void> | void;
}

export type HarnessFactory<T> = () => Promise<Harness<T>>;

/**
 * One check of a conformance suite: written once against an interface, run against every
 * implementation (containerd's content/testsuite). Checks await every call, so the same suite
 * serves synchronous and asynchronous implementations.
 */
export interface ConformanceCheck<T> {
  name: string;
  run(store: T): Promise<void>;
}

/** Registers `checks` as node:test tests under `name`, each on a fresh harness. */
export function runConformance<T>(name: string, checks: ReadonlyArray<ConformanceCheck<T>>, factory: HarnessFactory<T>): void {
  describe(name, () => {
    for (const check of checks) {
      it(check.name, async () => {
        const harness = await factory();
        try {
          await check.run(harness.store);
        } finally {
          await harness.close();
        }
      });
    }
  });
}

/** The checks an implementation fails, with their messages: how a suite is shown to catch a broken store. */
export async function failedChecks<T>(
  checks: ReadonlyArray<ConformanceCheck<T>>,
  factory: HarnessFactory<T>,
): Promise<Array<{ name: string; message: string }>> {
  const failed: Array<{ name: string; message: string }> = [];
  for (const check of checks) {
    const harness = await factory();
    try {
      await check.run(harness.store);
    } catch (err) {
      failed.push({ name: check.name, message: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
    } finally {
      await harness.close();
    }
  }
  return failed;
}
