/**
 * When a registry request is tried again, and after how long. containerd retries 408, 429 and (on
 * the last host) 500/503/504 once; Lading retries these, 502 and dropped connections a few times
 * with exponential backoff and jitter, honouring Retry-After. A registry that sends no answer
 * within --registry-response-timeout is tried once more only (registry-transport.ts).
 */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Returns [0, 1); injectable for tests. */
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  random: Math.random,
  sleep: abortableSleep,
};

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential cap. */
export function backoffDelay(attempt: number, policy: RetryPolicy, retryAfter?: string | string[]): number {
  const fromHeader = retryAfterMs(retryAfter);
  if (fromHeader !== undefined) return Math.min(fromHeader, policy.maxDelayMs);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (policy.random() * cap) / 2);
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A dropped or refused connection, a timeout, a body cut short: worth another try. */
export function isRetryableNetworkError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'AbortError') return false;
  if (e.code && RETRYABLE_CODES.has(e.code)) return true;
  return /socket hang up|aborted|premature close|timed out/i.test(e.message ?? '');
}
