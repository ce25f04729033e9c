/**
 * The transaction scope of the metadata roles: what a load or pull names, and what a sweep
 * forgets, is written whole or not at all.
 *
 * Synchronous today (SQLite's transactions run to the end on one stack). The next step:
 * `transaction(async (tx) => …)`, where `tx` is the roles bound to that transaction, and every
 * write inside goes through `tx`. SQLite honours it with one write queue per store and
 * `BEGIN IMMEDIATE`: better-sqlite3 has one connection, on which a write made outside `tx` while
 * the transaction awaits would join it, so every write, in a transaction or not, waits its turn.
 * PostgreSQL takes a pooled connection for `BEGIN … COMMIT`, retried on serialization failure. A
 * nested call given `tx` joins the outer transaction (a savepoint, as today: a failed inner part
 * undoes only its own writes).
 */
export interface TransactionScope {
  /** Runs `fn` atomically; nested calls join the outer transaction. A full disk fails it with a NoSpaceError. */
  transaction<T>(fn: () => T): T;
  /**
   * A transaction that only removes records (an image's names, a deleted blob's edges and facts):
   * on a full disk it may take space held in reserve, so that freeing space works when nothing else
   * does. The delete methods of the roles are removals of their own when called outside a transaction.
   */
  removal<T>(fn: () => T): T;
}
