/**
 * Transfers that stop together (the blobs of one pull or one push): the first failure aborts the
 * others through `signal`, and it is the error reported, since theirs may only say they were stopped,
 * and not always as an AbortError (a token fetch cut short comes back as a registry error).
 */
export class TaskGroup {
  private readonly controller = new AbortController();
  private cause: { err: unknown } | undefined;

  /** `outer` (the client going away) stops the group too. */
  constructor(outer?: AbortSignal) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener('abort', () => this.controller.abort(outer.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Waits for every task; rejects with the failure that stopped the group, else the first one. */
  async all(tasks: readonly Promise<unknown>[]): Promise<void> {
    const results = await Promise.allSettled(
      tasks.map((task) =>
        task.catch((err: unknown) => {
          if (!this.controller.signal.aborted) {
            this.cause = { err };
            this.controller.abort(err);
          }
          throw err;
        }),
      ),
    );
    if (this.cause) throw this.cause.err;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
