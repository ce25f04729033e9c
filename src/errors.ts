/**
 * Typed errors of the image engine. The HTTP layer maps each kind to a status code in one place
 * (src/api/errors.ts); everything below it throws these and never thinks about HTTP.
 */
export type ErrorKind =
  | 'not-found'
  | 'invalid-argument'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'not-implemented'
  | 'unavailable'
  /** Stored data that no longer reads back as written (errdefs.ErrDataLoss). */
  | 'data-loss'
  | 'internal';

export class LadingError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = new.target.name;
  }
}

export class NotFoundError extends LadingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
  }
}

export class InvalidArgumentError extends LadingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid-argument', message, options);
  }
}

export class ConflictError extends LadingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

export class NotImplementedError extends LadingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-implemented', message, options);
  }
}

export class UnavailableError extends LadingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/**
 * The metadata database (PostgreSQL) cannot be reached: refused, reset, shut down, timed out. A 503,
 * as dockerd answers when containerd is down; nothing was half-written (a transaction that did not
 * commit is rolled back by the server), and the next request connects again.
 */
export class MetadataUnavailableError extends UnavailableError {
  constructor(
    /** `127.0.0.1:5432/lading`: where the database was looked for (never the credentials). */
    readonly database: string,
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'unreachable');
    super(`metadata database unavailable: PostgreSQL at ${database}: ${cause}; try again once it is back`, options);
  }
}

/** The kind of any thrown value: ours carry one, everything else is internal. */
export function errorKind(err: unknown): ErrorKind {
  return err instanceof LadingError ? err.kind : 'internal';
}

/**
 * `context: message` for a typed error, keeping its kind (as Go's `%w` keeps errdefs classes); any
 * other error passes unchanged. registry-errors.ts's wrapRegistryError wraps every error instead.
 */
export function withContext(err: unknown, context: string): unknown {
  if (err instanceof LadingError) return new LadingError(err.kind, `${context}: ${err.message}`, { cause: err });
  return err;
}

/**
 * A write the data root's disk has no room for (ENOSPC, EDQUOT, SQLITE_FULL). Docker answers a
 * failed write with a 500 (a system error); the message says what is full and how to free space.
 */
export class NoSpaceError extends LadingError {
  constructor(
    /** The file the write went to. */
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(
      'internal',
      `the data root's disk is full: write ${file}: no space left on device; free space (docker image rm, docker image prune) and try again`,
      options,
    );
  }
}

/** Whether a failed system call found the disk (or the user's quota) full. */
export function isNoSpaceErrno(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
