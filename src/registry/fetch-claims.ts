/**
 * Claims on fetches of a digest shared by the daemons behind one blob tier (issue 14 item 3): the
 * daemon holding a digest's claim fetches it from the source registry; another that asks for the
 * same claim waits until it is let go, then finds the blob in the tier and only leases it. A claim
 * saves a second download and decides nothing else: a blob fetched twice is the same blob, so a
 * claim lost with its connection, or never granted (the claims' store away), costs bandwidth only.
 */
export interface FetchClaims {
  /** Waits until this daemon holds the claim on `digest`; fails when `signal` aborts or the claims' store cannot be reached. */
  claim(digest: string, signal?: AbortSignal): Promise<FetchClaim>;
}

export interface FetchClaim {
  /** Lets the claim go, to the next daemon waiting for it; returns at once. */
  release(): void;
}
