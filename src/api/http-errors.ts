import type { ServerResponse } from 'node:http';
import { errorKind, type ErrorKind } from '../errors.js';
import { goMarshal } from '../util/go-json.js';

const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  'invalid-argument': 400,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  'not-implemented': 501,
  unavailable: 503,
  'data-loss': 500,
  internal: 500,
};

/** The single mapping from an error's kind to its HTTP status. */
export function statusOf(err: unknown): number {
  return STATUS[errorKind(err)];
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Docker's error body: `{"message":"…"}` and a newline, as JSON, HTML left unescaped. */
export function errorBody(message: string): Buffer {
  return Buffer.from(goMarshal({ message }, { escapeHTML: false }) + '\n');
}

export function writeError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  const body = errorBody(errorMessage(err));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}
