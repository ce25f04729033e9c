/**
 * Errors of registry conversations, with the texts containerd v2.1.4 and Docker 28.5 give them
 * (core/remotes/docker, core/remotes/errors, daemon/containerd/registry_errors.go).
 */
import { LadingError, type ErrorKind } from '../errors.js';

/** One entry of a registry's `{"errors":[…]}` body (distribution's errcode). */
export interface RegistryErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

export interface RegistryErrorFacts {
  /** The registry answered with this status and nothing handled it. */
  status?: number;
  /** Decoded `errors` of the response body, when it had any. */
  registryErrors?: RegistryErrorEntry[];
  /** containerd's ErrInvalidAuthorization is in the chain. */
  invalidAuthorization?: boolean;
  /** containerd's errdefs.ErrNotFound is in the chain. */
  notFound?: boolean;
}

/** A registry error; wrapping keeps the facts, as Go's %w keeps the chain. */
export class RegistryError extends LadingError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly facts: RegistryErrorFacts = {},
    options?: { cause?: unknown },
  ) {
    super(kind, message, options);
  }
}

/** `fmt.Errorf("<prefix>: %w", err)` for any error, a registry error's facts kept (errors.ts's withContext passes untyped errors by). */
export function wrapRegistryError(prefix: string, err: unknown): Error {
  const message = `${prefix}: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof RegistryError) return new RegistryError(err.kind, message, err.facts, { cause: err });
  if (err instanceof LadingError) return new LadingError(err.kind, message, { cause: err });
  return new LadingError('internal', message, { cause: err });
}

/** errdefs.ErrNotFound with a message: `<what>: not found`. */
export function notFound(what: string): RegistryError {
  return new RegistryError('not-found', `${what}: not found`, { notFound: true });
}

/** containerd's ErrInvalidAuthorization, `authorization failed`, with its context. */
export function invalidAuthorization(message: string): RegistryError {
  return new RegistryError('internal', message, { invalidAuthorization: true });
}

/** remotes/errors.ErrUnexpectedStatus, joined with the registry's own errors when it sent some. */
export function unexpectedStatus(
  method: string,
  url: string,
  status: number,
  statusText: string,
  body: Buffer,
): RegistryError {
  let message = `unexpected status from ${method} request to ${url}: ${status} ${statusText}`;
  const registryErrors = parseRegistryErrors(body);
  // errors.Join prints both, one per line.
  if (registryErrors.length > 0) message += '\n' + registryErrors.map(errcodeText).join('\n');
  return new RegistryError('internal', message, { status, registryErrors });
}

const ERROR_CODE_MESSAGES: Record<string, string> = {
  UNKNOWN: 'unknown error',
  UNSUPPORTED: 'The operation is unsupported.',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNAVAILABLE: 'service unavailable',
  TOOMANYREQUESTS: 'too many requests',
};

/** errcode.Error.Error(): `<code lowercased, _ as space>: <message>`. */
function errcodeText(e: RegistryErrorEntry): string {
  return `${e.code.toLowerCase().replaceAll('_', ' ')}: ${e.message}`;
}

export function parseRegistryErrors(body: Buffer): RegistryErrorEntry[] {
  if (body.length === 0) return [];
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors.flatMap((e: unknown) => {
      if (typeof e !== 'object' || e === null) return [];
      const r = e as Record<string, unknown>;
      const code = typeof r.code === 'string' ? r.code : 'UNKNOWN';
      const message = typeof r.message === 'string' ? r.message : '';
      return [{ code, message, ...(r.detail !== undefined ? { detail: r.detail } : {}) }];
    });
  } catch {
    return [];
  }
}

/**
 * Docker 28's translateRegistryError: a registry's own errors become `error from registry: …`
 * with a kind by their code; an unexpected status without them becomes `unknown: …`; anything
 * else passes unchanged.
 */
export function translateRegistryError(err: unknown): unknown {
  if (!(err instanceof RegistryError) || err.facts.status === undefined) return err;
  const entries = err.facts.registryErrors ?? [];
  if (entries.length === 0) return new LadingError('internal', `unknown: ${err.message}`, { cause: err });
  const parts = entries.map((e) => {
    let message = e.message || (ERROR_CODE_MESSAGES[e.code] ?? ERROR_CODE_MESSAGES.UNKNOWN ?? '');
    if (typeof e.detail === 'string') message = `${message} - ${e.detail}`;
    return { kind: kindOfCode(e.code), message };
  });
  const kind = parts.length === 1 ? (parts[0]?.kind ?? 'internal') : 'internal';
  return new LadingError(kind, `error from registry: ${parts.map((p) => p.message).join('\n')}`, { cause: err });
}

function kindOfCode(code: string): ErrorKind {
  switch (code) {
    case 'UNSUPPORTED':
      return 'not-implemented';
    case 'UNAUTHORIZED':
      return 'unauthorized';
    case 'DENIED':
      return 'forbidden';
    case 'UNAVAILABLE':
    case 'TOOMANYREQUESTS':
      return 'unavailable';
    default:
      return 'internal';
  }
}
