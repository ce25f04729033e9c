/**
 * Bearer tokens by (realm, service, scopes, identity), shared by the daemon's pulls: a token is
 * fetched once however many requests wait for it, and dropped when it expires or is refused.
 */
import { createHash } from 'node:crypto';

export interface Token {
  token: string;
  /** ms since the epoch; undefined: for as long as the registry accepts it. */
  expiresAt?: number;
}

/** Tokens without `expires_in` last 60 s (the distribution token spec's default). */
export const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Refresh a little early, so a token does not expire between being handed out and used. */
const EARLY_MS = 5_000;

export class TokenCache {
  private readonly entries = new Map<string, Promise<Token>>();

  constructor(private readonly now: () => number = Date.now) {}

  static key(parts: { realm: string; service: string; scopes: readonly string[]; username: string; secret: string }): string {
    const identity = parts.secret ? createHash('sha256').update(`${parts.username}\0${parts.secret}`).digest('hex') : '';
    return [parts.realm, parts.service, parts.scopes.join(' '), parts.username, identity].join('\n');
  }

  /** The cached token for `key`, or the one `fetch` gets (one fetch per key at a time). */
  async get(key: string, fetch: () => Promise<{ token: string; expiresInS?: number }>): Promise<string> {
    const cached = this.entries.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && (token.expiresAt === undefined || token.expiresAt - EARLY_MS > this.now())) return token.token;
      if (this.entries.get(key) === cached) this.entries.delete(key);
      if (token === undefined) return this.get(key, fetch);
    }
    const pending = fetch().then(({ token, expiresInS }) => ({
      token,
      expiresAt: this.now() + (expiresInS && expiresInS > 0 ? expiresInS : DEFAULT_TOKEN_LIFETIME_S) * 1000,
    }));
    this.entries.set(key, pending);
    try {
      return (await pending).token;
    } catch (err) {
      if (this.entries.get(key) === pending) this.entries.delete(key);
      throw err;
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
